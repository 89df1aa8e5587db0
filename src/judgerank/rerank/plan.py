"""The cost model: what a method will cost before it runs (`judgerank plan`).

For each method, the LLM calls, the dependent rounds (batches that wait for the answers before
them: the latency floor on a backend that runs a batch at once), the prompt tokens and the FLOPs
(judgerank.flops) of ranking n candidates.

Methods whose calls do not depend on the answers have a closed form in n and their options
(`closed_form`): pointwise, allpairs, the sliding windows, JointRank, and a cascade built on one
of them. The others (the top-k sorts, setwise, swiss, active, realm) ask what the answers lead
them to; their counts are predicted by running the method itself against the simulated judge
on `trials` random candidate lists (strengths N(0, spread^2) on the judge's log-odds scale,
SPREAD unless told, with the judge's noise and position bias as given), reported as the mean and the range over the trials.
Tokens come from the same runs: passages of `passage_tokens` tokens and a query of
`query_tokens`, counted by the model's tokenizer when one is named, else as words.

A cache that already holds a share `cached` of the judgments removes that share of the calls,
tokens and FLOPs; the rounds stay (a round waits for its uncached answers) unless all is cached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from judgerank.core.costs import Costs
from judgerank.core.flops import ModelShape
from judgerank.core.types import Item, Query
from judgerank.rerank.reranker import Reranker
from judgerank.runtime import simulated_judge
from judgerank.strategies.allpairs import CHUNK as ALLPAIRS_CHUNK
from judgerank.strategies.registry import METHODS, Options, calibrated_llm_weight

SPREAD = 2.0  # spread of the simulated candidates' strengths (log-odds): a grade or two apart
# The counts of the methods that follow the answers depend on the judge: one that cannot tell the
# candidates apart (spread near 0) makes a heap swap less and active ask more. Give the judge's
# own spread where it is known (bench/judge_noise.py: its scale per grade times the grades' spread).
TokenCounter = Callable[[Sequence[tuple[str, str]]], int]


@dataclass(frozen=True)
class Range:
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Range:
        return cls(float(np.mean(values)), float(min(values)), float(max(values)))

    def scaled(self, factor: float) -> Range:
        return Range(self.mean * factor, self.low * factor, self.high * factor)


@dataclass(frozen=True)
class Prediction:
    method: str
    n: int
    calls: Range
    rounds: Range
    prompt_tokens: Range
    flops: Range
    formula: str | None  # the closed form of calls and rounds; None: predicted by simulation
    trials: int

    def as_dict(self) -> dict:
        return asdict(self)


def _windows(n: int, window: int, stride: int) -> int:
    """Sliding windows of one pass, as SlidingWindow places them."""
    return 1 if n <= window else math.ceil((n - window) / stride) + 1


def closed_form(method: str, n: int, o: Options, model: str = "any") -> tuple[int, int, str] | None:
    """(calls, rounds, formula) for a method whose calls do not depend on the answers; None else.
    `model`: the judge's name, which sets the cascade's calibrated LLM weight (0: no LLM stage)."""
    if method in ("embedding", "embedding-prf"):
        return 0, 0, "no LLM calls"
    if method in ("cross-encoder", "bi-encoder"):
        return 0, 0, f"no LLM calls (one {method} pass per candidate)"
    if method in ("pointwise", "pointwise-graded"):
        return n, 1, "calls n, in one round"
    if method in ("first-full", "icr"):
        return 1, 1, "one call over the whole list" + (" (two forward passes: the query's and the calibration's)"
                                                      if method == "icr" else "")
    if method == "allpairs":
        rounds = max(1, math.ceil(n * (n - 1) // 2 / ALLPAIRS_CHUNK))
        return n * (n - 1), rounds, (f"calls n(n-1) (every pair in both orders), in rounds of {ALLPAIRS_CHUNK:,} pairs "
                                     "(a budget stops the rest unbuilt)")
    if method in ("listwise", "first", "listwise-psc", "first-psc"):
        windows = _windows(n, o.window, o.stride) * o.passes
        each = o.shuffles if method.endswith("-psc") else 1
        shuffles = " x shuffles" if each > 1 else ""
        return windows * each, windows, (f"calls W x passes{shuffles}, rounds W x passes (each window waits for the "
                                         "one below); W = ceil((n-window)/stride)+1")
    if method in ("jointrank", "jointrank-listwise"):
        if n <= o.window:
            return 1, 1, "one window (n <= window)"
        blocks = o.replicas * math.ceil(n / o.window)
        return blocks, 1, "calls replicas x ceil(n/window), in one round"
    if method == "cascade":
        if not METHODS["cascade"].asks_second_stage(o, model):
            return 0, 0, f"no LLM calls (the second stage has no weight for {model})"
        inner = closed_form(o.then, min(n, o.cascade_depth), o, model)
        if inner is None:
            return None
        return inner[0], inner[1], f"{o.then} over min(n, cascade_depth): {inner[2]}"
    return None


def simulate(
    method: str, n: int, options: Options, *, trials: int = 20, passage_tokens: int = 100, query_tokens: int = 10,
    noise: float = 0.0, position_bias: float = 0.0, count_tokens: TokenCounter | None = None,
    shape: ModelShape | None = None, seed: int = 0, spread: float = SPREAD,
    progress: Callable[[int], object] | None = None, model: str = "any",
) -> list[Costs]:
    """The costs of `trials` runs of the method on random lists against the simulated judge
    (progress(runs done) after each)."""
    texts = [f"passage {i:05d}" + " w" * max(0, passage_tokens - 2) for i in range(n)]
    items = [Item(f"d{i}", t) for i, t in enumerate(texts)]
    query = Query("plan", " ".join(["q"] * query_tokens))
    if options.llm_weight is None:  # the judge's own calibration, not the stand-in's
        options = replace(options, llm_weight=calibrated_llm_weight(model))
    runs = []
    for t in range(trials):
        strengths = np.random.default_rng(seed + t).normal(0.0, spread, n)
        backend = simulated_judge(dict(zip(texts, strengths.tolist())), noise=noise, position_bias=position_bias,
                                  seed=seed + t, count_tokens=count_tokens, shape=shape)
        with Reranker(method, store=None, backend=backend, similarity_backend=backend, **asdict(options)) as reranker:
            runs.append(reranker.rank(query, items).costs)
        if progress is not None:
            progress(len(runs))
    return runs


def predict(
    method: str, n: int, options: Options, *, cached: float = 0.0, trials: int = 20, passage_tokens: int = 100,
    query_tokens: int = 10, noise: float = 0.0, position_bias: float = 0.0,
    count_tokens: TokenCounter | None = None, shape: ModelShape | None = None, spread: float = SPREAD,
    progress: Callable[[int], object] | None = None, model: str = "any",
) -> Prediction:
    """What ranking n candidates with `method` will cost (see the module's docstring); `model`
    names the judge (a cascade's LLM stage depends on its calibration)."""
    exact = closed_form(method, n, options, model)
    runs = simulate(method, n, options, trials=1 if exact else trials, passage_tokens=passage_tokens,
                    query_tokens=query_tokens, noise=noise, position_bias=position_bias,
                    count_tokens=count_tokens, shape=shape, spread=spread, progress=progress, model=model)
    keep = 1.0 - cached
    stage = options.then if method == "cascade" else method
    if exact is not None and options.samples > 1 and "choices" in METHODS[stage].needs:
        # each judgment asked `samples` times in words (repairs of unreadable answers come on top)
        exact = exact[0] * options.samples, exact[1], f"{exact[2]}; x {options.samples} samples per judgment"
    if exact is not None:
        calls, rounds = Range(exact[0], exact[0], exact[0]), Range(exact[1], exact[1], exact[1])
    else:
        calls, rounds = Range.of([c.calls for c in runs]), Range.of([c.rounds for c in runs])
    return Prediction(
        method, n, calls.scaled(keep), rounds.scaled(0.0 if cached >= 1.0 else 1.0),
        Range.of([c.prompt_tokens for c in runs]).scaled(keep), Range.of([c.flops for c in runs]).scaled(keep),
        exact[2] if exact else None, 1 if exact else trials,
    )
