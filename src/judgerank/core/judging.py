"""What a judge offers a strategy (the interfaces between the two halves of the engine), and how a
job hears a judge (Asking).

A strategy decides which judgments to ask and knows nothing of prompts; a judge turns a request
into a prompt and its answer into a signal and knows nothing of algorithms. Each signal comes back
as Answers: None where the Budget stopped a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from judgerank.core.errors import JudgerankError
from judgerank.core.types import Answers, Item, Preference, Query


class Scorer(Protocol):
    """One score per item (a probability of relevance, an expected rating, a cosine)."""

    def scores(self, query: Query, items: Sequence[Item]) -> Answers[float]: ...


class Comparer(Protocol):
    """A preference per pair of items, both orders asked."""

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> Answers[Preference]: ...


class WindowRanker(Protocol):
    """An order per window of items: positions in the window, best first."""

    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> Answers[list[int]]: ...


class SetJudge(Protocol):
    """The best of each set: its position in the set."""

    def best_of(self, query: Query, sets: Sequence[Sequence[Item]]) -> Answers[int]: ...


class LabelRanker(WindowRanker, SetJudge, Protocol):
    """Ranks windows and picks the best of sets (FIRST-style labels)."""


VerdictMode = Literal["auto", "logprobs", "text"]


@dataclass(frozen=True)
class Asking:
    """How a job hears a judge that reads choices (yes/no, A/B/tie, a rating, a label).

    verdicts: "logprobs" reads the probability of each answer token; "text" asks for the verdict
    in words, in a fixed form, and parses it (judgerank.judges.words); "auto" uses
    log-probabilities where the model gives them and words where it does not (an endpoint that
    gives none is found at its first reply, once). samples: answers in words asked per judgment
    at `temperature` (default 0.7 when samples > 1, else greedy); their vote shares, with a prior
    of half an answer for each choice, are the probabilities, so one answer still gives one.
    reasoning: the judge thinks before its verdict, in up to `think_tokens` tokens (verdicts in
    words); its reasoning is kept beside the judgment."""

    verdicts: VerdictMode = "auto"
    samples: int = 1
    temperature: float | None = None
    reasoning: bool = False
    think_tokens: int = 512

    def __post_init__(self) -> None:
        if self.verdicts not in ("auto", "logprobs", "text"):
            raise JudgerankError(f"--verdicts must be auto, logprobs or text, not {self.verdicts!r}")
        if self.samples < 1:
            raise JudgerankError(f"--samples must be at least 1, not {self.samples}")
        if self.temperature is not None and not 0.0 <= self.temperature <= 2.0:
            raise JudgerankError(f"--temperature must be between 0 and 2, not {self.temperature}")
        if self.think_tokens < 16:
            raise JudgerankError(f"--think-tokens must be at least 16, not {self.think_tokens}")
        if self.verdicts == "logprobs" and (self.samples > 1 or self.reasoning):
            raise JudgerankError("--samples and --reasoning ask for verdicts in words: leave out --verdicts logprobs")

    @property
    def in_words(self) -> bool:
        """Whether every verdict is asked in words, whatever the model can give."""
        return self.verdicts == "text" or self.samples > 1 or self.reasoning

    @property
    def sampling_temperature(self) -> float:
        return self.temperature if self.temperature is not None else (0.7 if self.samples > 1 else 0.0)
