"""How far an assessor's qrels can be trusted: agreement with people's qrels, label by label and
in the order they put systems (judgerank assess-eval).

Label agreement is read on the passages both qrels grade: Cohen's kappa on the grades and on
binary relevance (grade >= `level`), the confusion matrix, and kappa per topic. System agreement
is what test collections are for: each run's measure (nDCG@10, MAP) under both qrels, and
Kendall's tau and tau_AP (Yilmaz, Aslam and Robertson 2008: errors near the top of the order
weigh more) between the two orders of the systems, with percentile intervals over topics
resampled with replacement. Holes: the same figures with each run condensed to the passages a
qrels grades (Sakai 2007), so that an unjudged passage neither counts as irrelevant nor hides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import kendalltau

from judgerank.core.errors import JudgerankError
from judgerank.judge.agreement import cohen_kappa
from judgerank.rerank.evaluate import Measure, evaluate

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]


def tau_ap(estimate: Sequence[float], truth: Sequence[float]) -> float:
    """tau_AP of the order `estimate` gives the systems against the order `truth` gives them
    (higher is better in both): 2/(N-1) * sum over the estimate's ranks i >= 2 of the share of
    the systems above i that the truth also puts above the system at i, minus 1. Not symmetric:
    the estimate's top is where errors weigh most. Systems the estimate ties are put in the
    truth's worst order (a tie never helps: an estimate that ties every system scores -1)."""
    est, tru = np.asarray(estimate, dtype=float), np.asarray(truth, dtype=float)
    if est.shape != tru.shape or len(est) < 2:
        raise JudgerankError("tau_AP compares two scores of the same two or more systems")
    order = sorted(range(len(est)), key=lambda s: (-est[s], tru[s]))  # a tie: the truth's worse system first
    total = 0.0
    for i in range(1, len(order)):
        above = order[:i]
        total += sum(tru[a] > tru[order[i]] for a in above) / i
    return float(2.0 * total / (len(order) - 1) - 1.0)


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b between two scores of the same systems (scipy)."""
    value = kendalltau(a, b).statistic
    return float(value) if np.isfinite(value) else 0.0


@dataclass(frozen=True)
class LabelAgreement:
    """The assessor's grades against people's, on the passages both grade."""

    shared: int  # passages both qrels grade
    only_assessor: int  # graded by the assessor, not by people (holes in people's qrels)
    only_people: int
    kappa: float  # on the grades
    kappa_binary: float  # on grade >= level
    level: int
    grades: list[int]
    confusion: list[list[int]]  # rows: people's grade, columns: the assessor's
    per_topic_kappa: dict[str, float | None]  # None where a topic's labels leave kappa undefined


def label_agreement(assessor: Qrels, people: Qrels, level: int = 2) -> LabelAgreement:
    said, truth, topics = [], [], []
    only_assessor = only_people = 0
    for qid in sorted(set(assessor) | set(people)):
        a, p = assessor.get(qid, {}), people.get(qid, {})
        only_assessor += len(set(a) - set(p))
        only_people += len(set(p) - set(a)) if qid in assessor else 0
        for docid in sorted(set(a) & set(p)):
            said.append(a[docid])
            truth.append(p[docid])
            topics.append(qid)
    if not said:
        raise JudgerankError("the two qrels grade no passage in common: nothing to compare")
    grades = sorted(set(said) | set(truth))
    index = {g: n for n, g in enumerate(grades)}
    confusion = np.zeros((len(grades), len(grades)), dtype=int)
    for s, t in zip(said, truth):
        confusion[index[t], index[s]] += 1
    per_topic: dict[str, float | None] = {}
    for qid in dict.fromkeys(topics):
        pairs = [(s, t) for s, t, q in zip(said, truth, topics) if q == qid]
        s_, t_ = zip(*pairs)
        undefined = len(set(s_) | set(t_)) < 2
        per_topic[qid] = None if undefined else round(cohen_kappa(list(s_), list(t_)), 6)
    return LabelAgreement(len(said), only_assessor, only_people, cohen_kappa(said, truth),
                          cohen_kappa([s >= level for s in said], [t >= level for t in truth]), level, grades,
                          confusion.tolist(), per_topic)


def condensed(run: Run, qrels: Qrels) -> dict[str, dict[str, float]]:
    """The run with every passage the qrels do not grade left out (a condensed list)."""
    return {qid: {d: s for d, s in docs.items() if d in qrels.get(qid, {})} for qid, docs in run.items()}


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": round(self.value, 6), "low": round(self.low, 6), "high": round(self.high, 6)}


@dataclass
class SystemAgreement:
    """Each run's measure under both qrels, and how alike the two orders of the runs are."""

    measure: str
    topics: list[str]
    assessor: dict[str, float]  # run -> mean measure under the assessor's qrels
    people: dict[str, float]
    tau: Interval
    tau_ap: Interval
    judged_at_10: dict[str, tuple[float, float]] = field(default_factory=dict)  # run -> (assessor, people) share
    tau_resampled: list[float] = field(default_factory=list)  # tau in each resample of the topics


def system_agreement(runs: Mapping[str, Run], assessor: Qrels, people: Qrels, measure: str = "ndcg@10",
                     level: int = 2, samples: int = 1000, seed: int = 0, holes: str = "count") -> SystemAgreement:
    """Per-run means on the topics both qrels have; tau and tau_AP (the assessor's order as the
    estimate, people's as the truth) with 95% percentile intervals over `samples` resamples of
    the topics. holes: "count" (an unjudged passage is irrelevant, as trec_eval reads it) or
    "condense" (each run condensed to the passages each qrels grades)."""
    if len(runs) < 2:
        raise JudgerankError("system agreement needs two or more runs to order")
    topics = sorted(set(assessor) & set(people))
    if not topics:
        raise JudgerankError("the assessor's qrels and people's share no topic")
    names = list(runs)
    column = Measure.parse(measure).name
    scores = np.zeros((2, len(names), len(topics)))
    for side, qrels in enumerate((assessor, people)):
        for r, name in enumerate(names):
            run = {q: dict(runs[name][q]) for q in topics if q in runs[name]}
            if holes == "condense":
                run = condensed(run, qrels)
            graded = {q: dict(qrels[q]) for q in topics}
            per_query = evaluate(run, graded, [measure], level).per_query if run else {}
            scores[side, r] = [per_query.get(q, {}).get(column, 0.0) for q in topics]  # a topic the run lacks: 0
    means = scores.mean(axis=2)
    rng = np.random.default_rng(seed)
    taus, aps = [], []
    for _ in range(samples):
        pick = rng.integers(0, len(topics), len(topics))
        m = scores[:, :, pick].mean(axis=2)
        taus.append(kendall_tau(m[0], m[1]))
        aps.append(tau_ap(m[0], m[1]))
    judged = {name: (_judged_share(runs[name], assessor, topics), _judged_share(runs[name], people, topics))
              for name in names}
    return SystemAgreement(measure, topics, dict(zip(names, means[0].tolist())), dict(zip(names, means[1].tolist())),
                           Interval(kendall_tau(means[0], means[1]), *np.percentile(taus, [2.5, 97.5])),
                           Interval(tau_ap(means[0], means[1]), *np.percentile(aps, [2.5, 97.5])), judged, taus)


def _judged_share(run: Run, qrels: Qrels, topics: Sequence[str], depth: int = 10) -> float:
    """The share of the run's top `depth` passages (trec_eval's order) over the topics that the qrels grade."""
    from judgerank.assess.pool import ranked

    seen = hits = 0
    for q in topics:
        top = ranked(run.get(q, {}))[:depth]
        seen += len(top)
        hits += sum(d in qrels.get(q, {}) for d in top)
    return hits / seen if seen else 0.0
