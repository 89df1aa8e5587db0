"""What every backend offers: log-probabilities of given choice tokens, generated text, text
similarities, or (open weights run in process) the attention a probe pays to parts of a prompt.

Backends know nothing of ranking; judges build the requests and read the results.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from judgerank.core.flops import ModelShape

Message = tuple[str, str]  # (role, content)


@dataclass(frozen=True)
class ChoiceRequest:
    """A chat prompt and the choices whose next-token log-probabilities are wanted.

    `template` names the judge template and its version; it is part of the cache key.
    """

    messages: tuple[Message, ...]
    choices: tuple[str, ...]
    template: str


@dataclass(frozen=True)
class ChoiceResult:
    """log P(choice) under the model's full next-token distribution, one per choice.

    evaluated_tokens: prompt tokens actually computed (not served from a KV or prefix cache);
    retries: failed attempts before this result (HTTP backends).
    """

    logprobs: tuple[float, ...]
    prompt_tokens: int
    evaluated_tokens: int
    completion_tokens: int = 0
    retries: int = 0


@dataclass(frozen=True)
class GenerateRequest:
    """A chat prompt to continue, up to max_tokens; `template` as in ChoiceRequest.

    temperature 0 decodes greedily; above 0 it samples, `seed` choosing the draw (a judgment's
    k samples are k seeds). Where the prompt asks for a verdict in words, `answers` are the
    choices it stands for, `written` how the prompt asks each to be written, and `ranked` says
    it asks for them all in order: models ignore these, the simulated judge answers with them."""

    messages: tuple[Message, ...]
    max_tokens: int
    template: str
    temperature: float = 0.0
    seed: int = 0
    answers: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    ranked: bool = False


@dataclass(frozen=True)
class Generation:
    """What a model wrote, and the reasoning it gave apart from it where it has a channel for
    that (reasoning_content, or a <think> block that the reader splits off)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    evaluated_tokens: int = 0
    retries: int = 0
    reasoning: str = ""


@dataclass(frozen=True)
class AttentionRequest:
    """A prompt whose user turn is `head`, then each segment after `separator`, then `separator`
    and `probe`: the attention that the probe's tokens pay to each segment's tokens, calibrated
    by the same prompt with the content-free `calibration` in the probe's place (ICR). Segments and
    probes are untrusted text; `template` as in ChoiceRequest."""

    system: str
    head: str
    segments: tuple[str, ...]
    separator: str
    probe: str
    calibration: str
    template: str


@dataclass(frozen=True)
class AttentionResult:
    """One calibrated attention score per segment. prompt_tokens: the prompt with the probe;
    evaluated_tokens adds the calibration probe, run again on the cached prefix."""

    scores: tuple[float, ...]
    prompt_tokens: int
    evaluated_tokens: int
    completion_tokens: int = 0
    retries: int = 0


class Backend:
    """What every backend is: a name for the judgment store (`identity`: everything that can change
    a result, nothing that cannot), whether many threads may send it batches at once
    (`concurrent`), its shape where known (FLOPs are estimated from it) and `close()`. A backend
    also offers one or more of the capabilities below; the judgment store and the runtime ask for
    them by these Protocols, never by probing for attributes."""

    identity: str = "backend"
    concurrent: bool = False
    shape: ModelShape | None = None
    gives_logprobs: bool | None = None  # None: not known until a reply shows it (an HTTP endpoint)

    def load(self) -> None:
        """Load now what the backend would load at its first use (the embedding model's session):
        a server warms up before it says it is ready. The default has nothing to load."""

    def close(self) -> None:
        """Release what the backend holds (a model, an HTTP client); the default holds nothing."""


@runtime_checkable
class ChoiceBackend(Protocol):
    """A model that scores choice tokens after a prompt."""

    identity: str

    def iter_choice_logprobs(self, requests: Sequence[ChoiceRequest]) -> Iterator[tuple[int, ChoiceResult]]:
        """Yield (index into requests, result) as each is computed, in any order."""
        ...


@runtime_checkable
class TextBackend(Protocol):
    """A model that generates text after a prompt: listwise permutations, verdicts in words."""

    identity: str

    def iter_generate(self, requests: Sequence[GenerateRequest]) -> Iterator[tuple[int, Generation]]:
        """Yield (index into requests, generation) as each is computed, in any order."""
        ...


@runtime_checkable
class SimilarityBackend(Protocol):
    """A model that scores (query, text) relevance directly, such as a bi-encoder."""

    identity: str

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        ...


@runtime_checkable
class VectorBackend(SimilarityBackend, Protocol):
    """A bi-encoder that also gives its unit-length vectors (pseudo-relevance feedback in one pass)."""

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        ...


@runtime_checkable
class AttentionBackend(Protocol):
    """A model whose attention weights can be read (open weights in process)."""

    identity: str

    def iter_attention(self, requests: Sequence[AttentionRequest]) -> Iterator[tuple[int, AttentionResult]]:
        """Yield (index into requests, result) as each is computed, in any order."""
        ...


@runtime_checkable
class Tokenizing(Protocol):
    """A model whose tokenizer can be asked whether a label is one token (FIRST's labels)."""

    def is_single_token(self, text: str) -> bool:
        ...
