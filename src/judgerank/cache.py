"""A model seen through the judgment store and one job's Ledger: what judges actually call.

Stored judgments are served free; the rest are asked of the backend (cut to what the Budget
still allows, in the order asked, which is the strategy's order of priority), each one stored
and charged as it arrives, so a stop (Budget, failure, kill) keeps every finished one. When the
Budget cuts a batch, BudgetExhausted carries the results that did come back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, nullcontext
from typing import Any, TypeVar

from judgerank.accounting import Ledger
from judgerank.backends.base import (
    AttentionRequest,
    AttentionResult,
    ChoiceRequest,
    ChoiceResult,
    GenerateRequest,
    Generation,
)
from judgerank.cancel import check_cancelled
from judgerank.errors import BudgetExhausted, JudgerankError
from judgerank.guard.neutral import neutralise
from judgerank.judges.text import clip
from judgerank.store import JudgmentStore, judgment_key

R = TypeVar("R", ChoiceResult, Generation, AttentionResult)
Slot = Callable[[], AbstractContextManager[Any]]


class CachedModel:
    """One backend, the shared store and one job's Ledger. `slot` is entered around every
    backend batch: the runtime uses it to run an in-process model one batch at a time."""

    def __init__(
        self, backend: Any, store: JudgmentStore | None, ledger: Ledger, slot: Slot = nullcontext,
        neutralise: bool = True,
    ) -> None:
        self.backend = backend
        self.store = store
        self.ledger = ledger
        self.slot = slot
        self.neutralise = neutralise

    def clip(self, text: str, max_words: int) -> str:
        """Untrusted text made ready for a prompt: chat-template markers made inert (whatever the
        backend does with control tokens), then at most max_words whitespace-separated words so
        that any prompt fits the context; the job's costs count each text clipped."""
        if len(text.split()) > max_words:
            self.ledger.clipped(text)
        return clip(neutralise(text) if self.neutralise else text, max_words)

    @property
    def identity(self) -> str:
        return str(self.backend.identity)

    def choice_logprobs(self, requests: Sequence[ChoiceRequest]) -> list[ChoiceResult]:
        keys = [judgment_key(self.identity, r.template, r.messages, r.choices) for r in requests]
        return self._through_store(keys, requests, self.backend.iter_choice_logprobs, _choice_to_json, _choice_from_json)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        if not hasattr(self.backend, "iter_generate"):
            raise JudgerankError(f"model {self.identity} cannot generate text (listwise permutations need it)")
        keys = [judgment_key(self.identity, r.template, r.messages, "generate", r.max_tokens) for r in requests]
        return self._through_store(keys, requests, self.backend.iter_generate, _generation_to_json, _generation_from_json)

    def attention(self, requests: Sequence[AttentionRequest]) -> list[AttentionResult]:
        """Calibrated attention scores per segment (ICR): one call per prompt, two forward passes."""
        if not hasattr(self.backend, "iter_attention"):
            raise JudgerankError(
                f"model {self.identity} cannot give attention weights: icr needs open weights run in process "
                "(a GGUF --model without --base-url; pip install 'judgerank[attention]')"
            )
        keys = [judgment_key(self.identity, r.template, r.system, r.head, r.segments, r.separator, r.probe,
                             r.calibration) for r in requests]
        return self._through_store(keys, requests, self.backend.iter_attention, _attention_to_json, _attention_from_json)

    def is_single_token(self, text: str) -> bool:
        """Whether the model reads `text` as one token (True where the backend cannot tell)."""
        check = getattr(self.backend, "is_single_token", None)
        return True if check is None else bool(check(text))

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """Embedding similarities: stored like judgments, counted as embedded texts, not calls."""
        keys = [judgment_key(self.identity, "similarity", query, t) for t in texts]
        found = self.store.get_many(keys) if self.store is not None else {}
        self.ledger.hit(sum(1 for k in keys if k in found))
        todo = {k: t for k, t in zip(keys, texts) if k not in found}
        if todo:
            check_cancelled()
            with self.slot():
                values = self.backend.similarities(query, list(todo.values()))
            self.ledger.embedded(len(todo))
            found.update(zip(todo, values))
            if self.store is not None:
                self.store.put_many(zip(todo, values))
        return [float(found[k]) for k in keys]  # type: ignore[arg-type]

    def feedback_similarities(self, query: str, texts: Sequence[str], feedback: int, weight: float) -> list[float]:
        """Cosine after Rocchio pseudo-relevance feedback: the query's embedding is moved toward the
        mean of its `feedback` most similar texts (by `weight`), and every text is scored against
        the moved query. The candidates shape the feedback, so they are part of each stored key."""
        if feedback <= 0:
            return self.similarities(query, texts)
        pool = judgment_key(list(texts))
        keys = [judgment_key(self.identity, "similarity-prf", feedback, weight, query, pool, t) for t in texts]
        found = self.store.get_many(keys) if self.store is not None else {}
        if all(k in found for k in keys):
            self.ledger.hit(len(keys))
            return [float(found[k]) for k in keys]  # type: ignore[arg-type]
        with self.slot():
            values = rocchio(self.backend, query, list(texts), feedback, weight)
        self.ledger.embedded(len(texts))
        if self.store is not None:
            self.store.put_many(zip(keys, values))
        return values

    def _through_store(
        self,
        keys: list[str],
        requests: Sequence[Any],
        compute: Callable[[list[Any]], Iterator[tuple[int, R]]],
        to_json: Callable[[R], dict[str, Any]],
        from_json: Callable[[Any], R],
    ) -> list[R]:
        ledger = self.ledger
        stored = self.store.get_many(keys) if self.store is not None else {}
        results: dict[str, R] = {k: from_json(v) for k, v in stored.items()}
        ledger.hit(sum(1 for k in keys if k in results))
        todo = list({k: r for k, r in zip(keys, requests) if k not in results}.items())
        if not todo:
            return [results[k] for k in keys]
        allowed = ledger.calls_left()
        asked = todo if allowed is None else todo[:allowed]
        if ledger.tokens_reached():
            asked = []
        if asked:
            check_cancelled()
            ledger.round()
            shape = getattr(self.backend, "shape", None)
            stream = compute([r for _, r in asked])
            with self.slot(), closing(stream):  # type: ignore[type-var]  # backends yield from generators
                check_cancelled()  # the caller may have gone while this waited for the model
                for index, result in stream:
                    key = asked[index][0]
                    results[key] = result
                    if self.store is not None:
                        self.store.put_many([(key, to_json(result))])
                    ledger.charge(
                        prompt_tokens=result.prompt_tokens,
                        evaluated_tokens=result.evaluated_tokens,
                        completion_tokens=result.completion_tokens,
                        retries=result.retries,
                        flops=shape.flops(result.prompt_tokens, result.completion_tokens) if shape else 0.0,
                    )
                    if ledger.tokens_reached():
                        break  # the judgment that reached the token Budget is the last one
                    check_cancelled()
        if any(k not in results for k, _ in todo):
            raise BudgetExhausted(ledger.exhausted_message(), [results.get(k) for k in keys])
        return [results[k] for k in keys]


def _generation_to_json(result: Generation) -> dict[str, Any]:
    return {"text": result.text, "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens}


def _generation_from_json(value: Any) -> Generation:
    return Generation(value["text"], value["prompt_tokens"], value["completion_tokens"])


def _attention_to_json(result: AttentionResult) -> dict[str, Any]:
    return {"scores": list(result.scores), "prompt_tokens": result.prompt_tokens}


def _attention_from_json(value: Any) -> AttentionResult:
    return AttentionResult(tuple(value["scores"]), value["prompt_tokens"], 0)


def _choice_to_json(result: ChoiceResult) -> dict[str, Any]:
    return {"logprobs": list(result.logprobs), "prompt_tokens": result.prompt_tokens}


def _choice_from_json(value: Any) -> ChoiceResult:
    return ChoiceResult(tuple(value["logprobs"]), value["prompt_tokens"], 0)


def rocchio(backend: Any, query: str, texts: list[str], feedback: int, weight: float) -> list[float]:
    """s'(d) = d . (q + w m) / |q + w m|, m the mean of the top `feedback` texts' unit vectors.
    With a backend that gives vectors this is one encoding pass; otherwise every needed dot
    product is asked as a similarity (d . t = similarity(t, d))."""
    import numpy as np

    if hasattr(backend, "vectors"):
        v = backend.vectors([query, *texts])
        qd = v[1:] @ v[0]
        top = np.argsort(-qd, kind="stable")[:feedback]
        cols = v[1:] @ v[1:][top].T
    else:
        qd = np.array(backend.similarities(query, texts))
        top = np.argsort(-qd, kind="stable")[:feedback]
        cols = np.array([backend.similarities(texts[t], texts) for t in top]).T
    d_m = cols.mean(axis=1)  # d . m for every text
    q_m = float(qd[top].mean())
    m_m = float(cols[top].mean())
    norm = np.sqrt(max(1e-12, 1.0 + 2.0 * weight * q_m + weight * weight * m_m))
    return [float(x) for x in (qd + weight * d_m) / norm]
