"""A model seen through the judgment store and one job's Ledger: what judges actually call.

Stored judgments are served free; the rest are asked of the backend (cut to what the Budget
still allows, in the order asked, which is the strategy's order of priority), each one stored
and charged as it arrives, so a stop (Budget, failure, kill) keeps every finished one. A Budget
cut is a value: the Answers carry what came back and say the batch was not finished. This is
the one place a Budget stops work.

The backend is built when the first judgment is asked of it, never before: a stage that is
never asked never loads its model.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, closing
from typing import Any, Protocol, TypeVar

import numpy as np

from judgerank.backends.base import (
    AttentionBackend,
    AttentionRequest,
    AttentionResult,
    Backend,
    ChoiceBackend,
    ChoiceRequest,
    ChoiceResult,
    GenerateRequest,
    Generation,
    SimilarityBackend,
    TextBackend,
    Tokenizing,
    VectorBackend,
)
from judgerank.core.cancel import check_cancelled
from judgerank.core.costs import Ledger
from judgerank.core.errors import JudgerankError
from judgerank.core.judging import Asking
from judgerank.core.types import Answers
from judgerank.store.base import JudgmentStore, judgment_key, report_damaged

R = TypeVar("R", ChoiceResult, Generation, AttentionResult)


class Held(Protocol):
    """A loaded backend and the gate its batches pass through (the runtime's HeldModel)."""

    backend: Backend

    def slot(self) -> AbstractContextManager[Any]: ...

    def note(self, text: str) -> None:
        """Tell the user something about the model once (the CLI prints it; else a warning)."""


class CachedModel:
    """One backend (loaded by `load` on first use), the shared store and one job's Ledger.
    `neutralise`: untrusted text has its chat-template markers made inert before it is shown."""

    def __init__(self, load: Callable[[], Held], store: JudgmentStore | None, ledger: Ledger,
                 neutralise: bool = True, asking: Asking | None = None, explained: list[Any] | None = None) -> None:
        self._load = load
        self._held: Held | None = None
        self.store = store
        self.ledger = ledger
        self.neutralise = neutralise
        self.asking = asking or Asking()  # how choices are heard (judgerank.judges.words)
        self.explained = explained  # where verdicts in words leave their reasoning (None: not kept)

    @property
    def gives_logprobs(self) -> bool | None:
        """Whether the model gives log-probabilities (None: not known yet). Known without loading
        the model where its kind tells."""
        return self.backend.gives_logprobs

    def no_logprobs(self, why: str) -> None:
        """The model gives no log-probabilities: say so once (per model, for every job) and ask
        in words from now on."""
        backend = self.backend
        if backend.gives_logprobs is not False:
            backend.gives_logprobs = False
            self.held.note(f"{why}: verdicts are asked in words from now on")

    @property
    def held(self) -> Held:
        if self._held is None:
            self._held = self._load()
        return self._held

    @property
    def backend(self) -> Backend:
        return self.held.backend

    @property
    def identity(self) -> str:
        return str(self.backend.identity)

    def _capable(self, kind: type, what: str) -> Any:
        backend = self.backend
        if not isinstance(backend, kind):
            raise JudgerankError(f"model {self.identity} cannot {what}")
        return backend

    def choice_logprobs(self, requests: Sequence[ChoiceRequest]) -> Answers[ChoiceResult]:
        backend: ChoiceBackend = self._capable(ChoiceBackend, "score answer tokens (this method reads them)")
        keys = [judgment_key(self.identity, r.template, r.messages, r.choices) for r in requests]
        return self._through_store(keys, requests, backend.iter_choice_logprobs, _choice_to_json, _choice_from_json)

    def generate(self, requests: Sequence[GenerateRequest]) -> Answers[Generation]:
        backend: TextBackend = self._capable(TextBackend, "generate text (listwise permutations need it)")
        # a greedy request keeps the key it always had; a sampled one adds its temperature and seed
        keys = [judgment_key(self.identity, r.template, r.messages, "generate", r.max_tokens,
                             *((r.temperature, r.seed) if r.temperature or r.seed else ())) for r in requests]
        return self._through_store(keys, requests, backend.iter_generate, _generation_to_json, _generation_from_json)

    def attention(self, requests: Sequence[AttentionRequest]) -> Answers[AttentionResult]:
        """Calibrated attention scores per segment (ICR): one call per prompt, two forward passes."""
        backend: AttentionBackend = self._capable(
            AttentionBackend, "give attention weights: icr needs open weights run in process (a GGUF --model "
            "without --base-url; pip install 'judgerank[attention]')")
        keys = [judgment_key(self.identity, r.template, r.system, r.head, r.segments, r.separator, r.probe,
                             r.calibration) for r in requests]
        return self._through_store(keys, requests, backend.iter_attention, _attention_to_json, _attention_from_json)

    def is_single_token(self, text: str) -> bool:
        """Whether the model reads `text` as one token (True where the backend cannot tell)."""
        backend = self.backend
        return backend.is_single_token(text) if isinstance(backend, Tokenizing) else True

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of a bi-encoder, one row per text: each kept in the store under the model's
        identity and the text, so a text is embedded once for every later query and process."""
        backend: VectorBackend = self._capable(VectorBackend, "give text vectors")
        keys = [judgment_key(self.identity, "vector", t) for t in texts]
        stored = self.store.get_many(list(dict.fromkeys(keys))) if self.store is not None else {}
        found = {k: _vector_from_json(v) for k, v in stored.items()}
        todo = {k: t for k, t in zip(keys, texts) if k not in found}
        if todo:
            check_cancelled()
            with self.held.slot():
                encoded = backend.vectors(list(todo.values()))
            self.ledger.embedded(len(todo))
            found.update(zip(todo, encoded))
            if self.store is not None:
                self.store.put_many((k, _vector_to_json(v)) for k, v in zip(todo, encoded))
        return np.array([found[k] for k in keys])

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """Embedding similarities, counted as embedded texts, not calls. A bi-encoder's come from
        its stored vectors; another backend's are stored pair by pair (as were a bi-encoder's in
        stores written before vectors were kept: those are still served)."""
        backend: SimilarityBackend = self._capable(SimilarityBackend, "give text similarities")
        keys = [judgment_key(self.identity, "similarity", query, t) for t in texts]
        found = self.store.get_many(keys) if self.store is not None else {}
        self.ledger.hit(sum(1 for k in keys if k in found))
        todo = {k: t for k, t in zip(keys, texts) if k not in found}
        if todo and isinstance(backend, VectorBackend):
            v = self.vectors([query, *todo.values()])
            found.update(zip(todo, (float(x) for x in v[1:] @ v[0])))
        elif todo:
            check_cancelled()
            with self.held.slot():
                values = backend.similarities(query, list(todo.values()))
            self.ledger.embedded(len(todo))
            found.update(zip(todo, values))
            if self.store is not None:
                self.store.put_many(zip(todo, values))
        return [float(found[k]) for k in keys]  # type: ignore[arg-type]

    def feedback_similarities(self, query: str, texts: Sequence[str], feedback: int, weight: float) -> list[float]:
        """Cosine after Rocchio pseudo-relevance feedback: the query's embedding is moved toward the
        mean of its `feedback` most similar texts (by `weight`), and every text is scored against
        the moved query. A bi-encoder's come from its stored vectors; another backend's are stored
        with the candidates in each key (they shape the feedback)."""
        if feedback <= 0:
            return self.similarities(query, texts)
        backend: SimilarityBackend = self._capable(SimilarityBackend, "give text similarities")
        pool = judgment_key(list(texts))
        keys = [judgment_key(self.identity, "similarity-prf", feedback, weight, query, pool, t) for t in texts]
        found = self.store.get_many(keys) if self.store is not None else {}
        if all(k in found for k in keys):
            self.ledger.hit(len(keys))
            return [float(found[k]) for k in keys]  # type: ignore[arg-type]
        if isinstance(backend, VectorBackend):
            return rocchio(_StoredVectors(self), query, list(texts), feedback, weight)
        with self.held.slot():
            values = rocchio(backend, query, list(texts), feedback, weight)
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
    ) -> Answers[R]:
        ledger = self.ledger
        stored = self.store.get_many(keys) if self.store is not None else {}
        results: dict[str, R] = {}
        for k, v in stored.items():
            try:
                results[k] = from_json(v)
            except (KeyError, TypeError, ValueError, AttributeError):  # JSON, but not a judgment: judged again
                report_damaged(self.store.location if self.store else "", k, "not a judgment of this kind")
        ledger.hit(sum(1 for k in keys if k in results))
        todo = list({k: r for k, r in zip(keys, requests) if k not in results}.items())
        if not todo:
            return Answers.whole(results[k] for k in keys)
        allowed = ledger.calls_left()
        asked = [] if ledger.tokens_reached() else todo if allowed is None else todo[:allowed]
        if asked:
            self._ask(asked, compute, to_json, results)
        return Answers([results.get(k) for k in keys], all(k in results for k, _ in todo))

    def _ask(self, asked: list[tuple[str, Any]], compute: Callable[[list[Any]], Iterator[tuple[int, R]]],
             to_json: Callable[[R], dict[str, Any]], results: dict[str, R]) -> None:
        """Ask the backend, keeping and charging each result as it arrives; the judgment that
        reaches the token Budget is the last one."""
        ledger = self.ledger
        check_cancelled()
        ledger.round()
        shape = self.backend.shape
        stream = compute([r for _, r in asked])
        with self.held.slot(), closing(stream):  # type: ignore[type-var]  # backends yield from generators
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
                    break
                check_cancelled()


def _generation_to_json(result: Generation) -> dict[str, Any]:
    return {"text": result.text, "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
            **({"reasoning": result.reasoning} if result.reasoning else {})}


def _generation_from_json(value: Any) -> Generation:
    return Generation(value["text"], value["prompt_tokens"], value["completion_tokens"],
                      reasoning=value.get("reasoning", ""))


def _attention_to_json(result: AttentionResult) -> dict[str, Any]:
    return {"scores": list(result.scores), "prompt_tokens": result.prompt_tokens}


def _attention_from_json(value: Any) -> AttentionResult:
    return AttentionResult(tuple(value["scores"]), value["prompt_tokens"], 0)


def _choice_to_json(result: ChoiceResult) -> dict[str, Any]:
    return {"logprobs": list(result.logprobs), "prompt_tokens": result.prompt_tokens}


def _choice_from_json(value: Any) -> ChoiceResult:
    return ChoiceResult(tuple(value["logprobs"]), value["prompt_tokens"], 0)


def rocchio(backend: SimilarityBackend, query: str, texts: list[str], feedback: int, weight: float) -> list[float]:
    """s'(d) = d . (q + w m) / |q + w m|, m the mean of the top `feedback` texts' unit vectors.
    With a backend that gives vectors this is one encoding pass; otherwise every needed dot
    product is asked as a similarity (d . t = similarity(t, d))."""
    if isinstance(backend, VectorBackend):
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


class _StoredVectors:
    """A bi-encoder seen through the store: rocchio's vectors, each text embedded once ever."""

    def __init__(self, model: CachedModel) -> None:
        self.identity = model.identity
        self._model = model

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.vectors(texts)

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        v = self.vectors([query, *texts])
        return [float(x) for x in v[1:] @ v[0]]


def _vector_to_json(vector: np.ndarray) -> dict[str, str]:
    return {"f32": base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")}


def _vector_from_json(value: Any) -> np.ndarray:
    return np.frombuffer(base64.b64decode(value["f32"]), dtype="<f4").astype(np.float32)
