"""Juries: several judges decide the same pairs, and their verdicts are pooled.

A juror is a model, a prompt template, or both: `MODEL[@TEMPLATE]` (qwen2.5-coder-0.5b,
smollm2-135m@judge-pair-5). Every juror judges every pair in both orders, each in its own thread,
so jurors whose backends run concurrently (HTTP servers, separate machines) overlap; local models
on one machine share its cores. A juror that fails part-way (a server gone, a budget spent) keeps
the verdicts it gave; the failure is reported and the pooled verdicts use the jurors that answered.

Three pooled verdicts per pair:
- mean: the jurors' P(a preferred) averaged, read as a verdict (above or below 1/2);
- majority: the most common of the jurors' own verdicts (a draw is a tie);
- weighted: the spectral weighting (judgerank.aggregate.spectral): each juror's loading is learned
  from how its log-odds agree with the other jurors', without gold labels; a juror that agrees with
  nobody gets no say and one that reliably disagrees is read flipped. Dawid-Skene's latent classes
  were used before; on the verdicts (b) of these small judges, near one half and rarely agreeing, it
  fell below the best juror (docs/benchmarks/judge.md), because it sees only each juror's verdict and
  not how sure it was.
Inter-juror agreement is Fleiss' kappa over the pairs every juror decided.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Unpack

import numpy as np
from scipy.special import logit

from judgerank.aggregate.spectral import spectral_pool
from judgerank.core.cancel import run_cancellable
from judgerank.core.costs import Budget, Costs
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Verdict, verdict_of
from judgerank.judge.agreement import Agreement, agreement, cross_fitted_verdicts, fleiss_kappa
from judgerank.judge.judge import VERDICT_TEMPLATES, Judge, JudgeOptions, PairJudgment, PairTask
from judgerank.runtime import Runtime, RuntimeUser
from judgerank.store import StoreSpec

CLASSES: tuple[Verdict, ...] = ("a", "b", "tie")


@dataclass(frozen=True)
class Juror:
    model: str | None
    template: str = "judge-pair"

    @property
    def name(self) -> str:
        base = self.model or "default"
        return base if self.template == "judge-pair" else f"{base}@{self.template}"


def parse_jurors(spec: str, minimum: int = 2) -> list[Juror]:
    """`MODEL[@TEMPLATE],...`; at least `minimum` distinct jurors; templates checked now."""
    jurors = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            raise JudgerankError(f"--judges {spec!r}: an empty juror; use MODEL[@TEMPLATE],MODEL[@TEMPLATE],...")
        model, _, template = part.partition("@")
        template = template or "judge-pair"
        if template not in VERDICT_TEMPLATES:
            raise JudgerankError(f"--judges: template {template!r} does not give pairwise verdicts: use "
                                 f"{' or '.join(VERDICT_TEMPLATES)}")
        jurors.append(Juror(model or None, template))
    names = [j.name for j in jurors]
    if len(set(names)) != len(names):
        raise JudgerankError(f"--judges {spec!r}: a juror is named twice")
    if len(jurors) < minimum:
        raise JudgerankError(f"--judges {spec!r}: a jury needs at least two jurors (give one with --model)")
    return jurors


@dataclass
class JuryPair:
    """One pair: each juror's judgment (absent if it failed first) and the pooled verdicts."""

    task: PairTask
    judgments: dict[str, PairJudgment]
    weighted: Verdict | None = None  # the spectral weighting's, set when the whole jury's verdicts are in
    weighted_p_a: float | None = None  # its P(a) under the spectral model

    @property
    def p_a(self) -> float:
        return float(np.mean([j.preference.prob for j in self.judgments.values()]))

    @property
    def mean(self) -> Verdict:
        return verdict_of(self.p_a - 0.5)

    @property
    def majority_p_a(self) -> float:
        """The share of jurors voting a, ties counted half."""
        votes = [j.probability for j in self.judgments.values()]
        return (votes.count("a") + 0.5 * votes.count("tie")) / len(votes)

    @property
    def majority(self) -> Verdict:
        counts = Counter(j.probability for j in self.judgments.values()).most_common()
        return counts[0][0] if len(counts) == 1 or counts[0][1] > counts[1][1] else "tie"

    def pooled(self, rule: str) -> Verdict:
        """The pooled verdict by rule: mean, majority or weighted (a tie until the weights are in)."""
        return self.mean if rule == "mean" else self.majority if rule == "majority" else self.weighted or "tie"

    def as_dict(self) -> dict:
        return {
            "id": self.task.id,
            "gold": self.task.gold,
            "p_a": round(self.p_a, 6),
            "mean": self.mean,
            "majority": self.majority,
            "weighted": self.weighted,
            "judges": {name: j.as_dict() for name, j in self.judgments.items()},
        }


@dataclass
class JuryResult:
    pairs: list[JuryPair]
    jurors: list[str]
    costs: dict[str, Costs]
    failures: dict[str, str] = field(default_factory=dict)  # juror -> what stopped it
    fleiss_kappa: float | None = None  # over the pairs every juror decided
    juror_weight: dict[str, float] = field(default_factory=dict)  # spectral loading: agreement with the truth

    def judgments_of(self, juror: str) -> list[PairJudgment]:
        """One juror's judgments, in the pairs' order (the pairs it decided)."""
        return [p.judgments[juror] for p in self.pairs if juror in p.judgments]


class Jury(RuntimeUser):
    """Judges pairs with every juror and pools their verdicts (see the module's docstring). One
    juror is allowed (judge-eval's card of a single judge); pooling then changes nothing.

    jurors: Jurors or `MODEL[@TEMPLATE]` strings. store, runtime, budget (each juror's, per
    `compare`) as for Judge; options as Judge's (ratings, max_words, guard, ...), for every juror.
    """

    def __init__(self, jurors: Sequence[Juror | str], *, store: StoreSpec = "default", runtime: Runtime | None = None,
                 budget: Budget | None = None, **options: Unpack[JudgeOptions]) -> None:
        chosen = [j if isinstance(j, Juror) else parse_jurors(j, minimum=1)[0] for j in jurors]
        if not chosen:
            raise JudgerankError("a jury needs a juror")
        self.budget = budget or Budget()
        runtime = self._use_runtime(runtime, store)
        self.judges = {j.name: Judge("allpairs", j.model, runtime=runtime, **(options | {"template": j.template}))
                       for j in chosen}

    def compare(self, pairs: Sequence[PairTask], *, batch_size: int = 8,
                progress: Callable[[str, int], None] | None = None) -> JuryResult:
        """Every juror over every pair, concurrently, `batch_size` pairs per backend batch (a juror
        that fails or runs out of budget keeps the batches it finished); progress(juror, pairs
        done) after each pair."""
        found: dict[str, dict[str, PairJudgment]] = {name: {} for name in self.judges}
        failures: dict[str, str] = {}
        costs: dict[str, Costs] = {}
        lock = threading.Lock()

        def run(name: str) -> None:
            def keep(judgment: PairJudgment) -> None:
                with lock:
                    found[name][judgment.task.id] = judgment
                if progress is not None:
                    progress(name, len(found[name]))

            try:
                done = self.judges[name].compare(pairs, budget=self.budget, batch_size=batch_size, on_judged=keep)
                costs[name] = done.costs
                if not done.complete:
                    failures[name] = f"budget spent after {len(found[name])} of {len(pairs)} pairs"
            except JudgerankError as exc:  # a backend gone, a bad reply: the others go on
                costs[name] = Costs()
                failures[name] = f"failed after {len(found[name])} of {len(pairs)} pairs: {exc}"

        stop = threading.Event()  # set when the caller stops waiting (Ctrl-C): each juror ends at its next call
        with ThreadPoolExecutor(len(self.judges)) as pool:
            try:
                list(pool.map(lambda name: run_cancellable(stop, lambda: run(name)), self.judges))
            except BaseException:
                stop.set()  # before the pool waits for its threads, which would otherwise judge on to the end
                raise
        rows = [JuryPair(t, {name: found[name][t.id] for name in self.judges if t.id in found[name]}) for t in pairs]
        result = JuryResult([p for p in rows if p.judgments], list(self.judges), costs, failures)
        pool_verdicts(result)
        return result


def pool_verdicts(result: JuryResult) -> None:
    """The spectral verdicts and juror loadings, and Fleiss' kappa, over the whole jury."""
    if not result.pairs:
        return
    index = {c: i for i, c in enumerate(CLASSES)}
    reports = np.full((len(result.pairs), len(result.jurors)), -1)
    log_odds = np.full(reports.shape, np.nan)
    for i, pair in enumerate(result.pairs):
        for j, name in enumerate(result.jurors):
            judgment = pair.judgments.get(name)
            if judgment is not None:
                reports[i, j] = index[judgment.probability]
                log_odds[i, j] = logit(min(max(judgment.preference.prob, 1e-6), 1 - 1e-6))
    fit = spectral_pool(log_odds)
    for pair, score, p_a in zip(result.pairs, fit.pooled, fit.p_a):
        # the guard's flags are the pair's, whichever juror's judgment carries them
        pair.weighted = next(iter(pair.judgments.values())).guarded(verdict_of(float(score)))
        pair.weighted_p_a = float(p_a)
    result.juror_weight = {name: float(w) for name, w in zip(result.jurors, fit.loadings)}
    complete = reports[(reports >= 0).all(axis=1)]
    if len(complete) and len(result.jurors) > 1:
        counts = np.stack([(complete == c).sum(axis=1) for c in range(len(CLASSES))], axis=1)
        result.fleiss_kappa = fleiss_kappa(counts)


POOLED_RULES = {
    "mean": "jury: mean P(a), both orders",
    "majority": "jury: majority of verdicts",
    "weighted": "jury: spectral weighted",
}


def pooled_agreement(result: JuryResult) -> dict[str, Agreement]:
    """Each pooled verdict against the gold labels, 2-way and 3-way; the mean gets a tie region
    cross-fitted on the labels, as a single judge's (b) does."""
    pairs = [p for p in result.pairs if p.task.gold is not None]
    if not pairs:
        raise JudgerankError("agreement needs gold labels")
    gold: list[Verdict] = [p.task.gold for p in pairs if p.task.gold is not None]
    mean = [p.mean for p in pairs]
    three_way, _ = cross_fitted_verdicts([p.p_a - 0.5 for p in pairs], gold)
    out = {"mean": agreement(mean, three_way, gold)}
    for rule in ("majority", "weighted"):
        verdicts = [p.pooled(rule) for p in pairs]
        out[rule] = agreement(verdicts, verdicts, gold)
    return out
