"""In-process llama.cpp backend: next-token log-probabilities of choice tokens after a chat prompt.

Requests are evaluated in token order so that consecutive prompts share a prefix, and the KV cache
of that shared prefix is kept instead of recomputed.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from judgerank.backends.base import Backend, ChoiceRequest, ChoiceResult, GenerateRequest, Generation
from judgerank.backends.models import resolve_gguf
from judgerank.core.errors import JudgerankError
from judgerank.core.flops import ModelShape


class LlamaCppBackend(Backend):
    """A GGUF model run by llama-cpp-python in this process."""

    def __init__(
        self,
        model: str | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        reuse_prefix: bool = True,
    ) -> None:
        import jinja2.sandbox
        import llama_cpp

        self.path: Path = resolve_gguf(model)
        self.reuse_prefix = reuse_prefix
        self._llama_cpp = llama_cpp
        try:
            with quiet_loading():
                self._llm = llama_cpp.Llama(
                    model_path=str(self.path),
                    n_ctx=n_ctx,
                    n_threads=n_threads or os.cpu_count(),
                    # prompt evaluation too: left unset it takes every core, and two workers on one
                    # machine then spin against each other (4x slower each, measured on 2 cores)
                    n_threads_batch=n_threads or os.cpu_count(),
                    n_batch=512,
                    logits_all=False,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as exc:
            raise JudgerankError(f"model {self.path}: llama.cpp cannot load it ({exc})") from exc
        meta = self._llm.metadata
        # E2R-FLOPs' estimate of each call's compute needs the parameters and the layers' shape
        self.shape: ModelShape | None = ModelShape.from_gguf(meta, int(llama_cpp.llama_model_n_params(self._llm.model)))
        self.identity = f"llama.cpp:{meta.get('general.name', self.path.stem)}:{self.path.stat().st_size}"
        self.gives_logprobs = True
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise JudgerankError(f"model {self.path}: has no chat template in its GGUF metadata")
        env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        self._template = env.from_string(template)
        self._bos = self._token_text(self._llm.token_bos())
        self._eos = self._token_text(self._llm.token_eos())
        self._n_vocab = self._llm.n_vocab()
        self._choice_ids: dict[tuple[str, ...], list[int]] = {}
        # tokens that end an assistant turn in common chat templates, besides end-of-sequence
        self._end_of_turn = {
            ids[0]
            for marker in ("<|im_end|>", "<|eot_id|>", "<|end|>", "</s>", "<end_of_turn>")
            if len(ids := self._tokenize(marker, special=True)) == 1
        }

    def close(self) -> None:
        """Free the model and its context now rather than at garbage collection."""
        self._llm.close()

    def _token_text(self, token: int) -> str:
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="ignore") if token >= 0 else ""

    def render(self, messages: Sequence[tuple[str, str]]) -> str:
        return self._template.render(
            messages=[{"role": r, "content": c} for r, c in messages],
            add_generation_prompt=True,
            bos_token=self._bos,
            eos_token=self._eos,
        )

    def prompt_tokens(self, messages: Sequence[tuple[str, str]]) -> list[int]:
        """Tokens of the chat prompt. Control tokens are parsed only in the template's own text:
        message contents are untrusted, so '<|im_start|>' inside a passage stays plain text."""
        markers = [f"\x00{i}\x00" for i in range(len(messages))]
        rendered = self.render([(role, m) for (role, _), m in zip(messages, markers)])
        tokens: list[int] = []
        for i, (marker, (_, content)) in enumerate(zip(markers, messages)):
            head, found, rendered = rendered.partition(marker)
            if not found:
                raise JudgerankError(f"model {self.path.name}: its chat template drops message {i}")
            tokens += self._tokenize(head, special=True) + self._tokenize(content, special=False)
        return tokens + self._tokenize(rendered, special=True)

    def _tokenize(self, text: str, *, special: bool) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special) if text else []

    def is_single_token(self, text: str) -> bool:
        return len(self._tokenize(text, special=False)) == 1

    def choice_token_ids(self, choices: tuple[str, ...]) -> list[int]:
        if choices not in self._choice_ids:
            ids = [self._tokenize(c, special=False)[0] for c in choices]
            if len(set(ids)) != len(ids):
                raise JudgerankError(f"choices {choices} do not start with distinct tokens for model {self.path.name}")
            self._choice_ids[choices] = ids
        return self._choice_ids[choices]

    def iter_choice_logprobs(self, requests: Sequence[ChoiceRequest]) -> Iterator[tuple[int, ChoiceResult]]:
        prompts = [self.prompt_tokens(r.messages) for r in requests]
        n_ctx = self._llm.n_ctx()
        for tokens in prompts:
            if len(tokens) >= n_ctx:
                raise JudgerankError(f"prompt of {len(tokens)} tokens exceeds the model context of {n_ctx}")
        # Lexicographic token order puts prompts with long common prefixes next to each other.
        order = sorted(range(len(prompts)), key=prompts.__getitem__) if self.reuse_prefix else range(len(prompts))
        for i in order:
            logits, evaluated = self._next_token_logits(prompts[i])
            ids = self.choice_token_ids(requests[i].choices)
            top = float(logits.max())
            log_z = top + float(np.log(np.exp(logits - top, dtype=np.float64).sum()))
            yield i, ChoiceResult(tuple(float(logits[t]) - log_z for t in ids), len(prompts[i]), evaluated)

    def iter_generate(self, requests: Sequence[GenerateRequest]) -> Iterator[tuple[int, Generation]]:
        """Continuations, in token order like the choice requests, stopping at end of turn:
        greedy at temperature 0, else each token drawn from softmax(logits / temperature) by a
        generator seeded with the request's seed (the same request, the same text)."""
        prompts = [self.prompt_tokens(r.messages) for r in requests]
        n_ctx = self._llm.n_ctx()
        for tokens, r in zip(prompts, requests):
            if len(tokens) + r.max_tokens >= n_ctx:
                raise JudgerankError(
                    f"prompt of {len(tokens)} tokens plus {r.max_tokens} to generate exceeds the model context of {n_ctx}"
                )
        order = sorted(range(len(prompts)), key=prompts.__getitem__) if self.reuse_prefix else range(len(prompts))
        stop = {self._llm.token_eos(), *self._end_of_turn}
        for i in order:
            tokens = list(prompts[i])
            logits, evaluated = self._next_token_logits(tokens)
            out: list[int] = []
            request = requests[i]
            rng = np.random.default_rng(request.seed) if request.temperature > 0 else None
            while len(out) < request.max_tokens:
                token = int(np.argmax(logits)) if rng is None else _sampled(logits, request.temperature, rng)
                if token in stop:
                    break
                out.append(token)
                tokens.append(token)
                logits, _ = self._next_token_logits(tokens)
            text = self._llm.detokenize(out).decode("utf-8", errors="replace")
            yield i, Generation(text, len(prompts[i]), len(out), evaluated)

    def _next_token_logits(self, tokens: list[int]) -> tuple[np.ndarray, int]:
        llm = self._llm
        keep = 0
        if self.reuse_prefix and llm.n_tokens:
            cached = llm.input_ids[: llm.n_tokens]
            limit = min(len(cached), len(tokens) - 1)  # always evaluate at least one token for fresh logits
            mismatch = np.flatnonzero(cached[:limit] != np.asarray(tokens[:limit]))
            keep = int(mismatch[0]) if mismatch.size else limit
        llm.n_tokens = keep  # eval() drops the KV cache beyond n_tokens
        llm.eval(tokens[keep:])
        ptr = self._llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).copy(), len(tokens) - keep


def _sampled(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    z = logits.astype(np.float64) / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


_LOADING = threading.Lock()


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Silence a loader's logging and progress bars on stderr (llama.cpp's C-level logging,
    transformers' GGUF conversion) while a model loads. One load at a time: the
    file descriptor 2 is process-wide, and two threads swapping it at once (a jury loading its
    models side by side) left the process writing its stdout and stderr to /dev/null."""
    with _LOADING:
        yield from _silenced()


def _silenced() -> Iterator[None]:
    stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(stderr, 2)
        os.close(devnull)
        os.close(stderr)
