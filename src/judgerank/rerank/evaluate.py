"""Ranking-quality measures computed exactly as trec_eval 9.x computes them.

Documents are ordered by score descending, ties broken by docno descending (trec_eval's rule;
the rank column of a run file is ignored). Binary measures count grade >= relevance_level as
relevant; nDCG uses the graded labels as gains.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from judgerank.core.errors import JudgerankError

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]

NONPOOL = -1  # retrieved but absent from the qrels
UNJUDGED = -2  # in the qrels with a negative grade

MIN_GEO_MEAN = 1e-5
IPREC_RECALLS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
P_CUTOFFS = (5, 10, 15, 20, 30, 100, 200, 500, 1000)


@dataclass(frozen=True)
class Judged:
    """One query's retrieved grades in rank order, and how many judged docs exist per grade."""

    grades: list[int]
    level_counts: dict[int, int]
    relevance_level: int

    @classmethod
    def build(cls, scores: Mapping[str, float], qrels: Mapping[str, int], relevance_level: int = 1) -> Judged:
        docs = sorted(scores, reverse=True)  # docno descending breaks score ties
        docs.sort(key=lambda d: scores[d], reverse=True)  # stable: keeps the docno order within ties
        grades = []
        for d in docs:
            if d not in qrels:
                grades.append(NONPOOL)
            else:
                grades.append(qrels[d] if qrels[d] >= 0 else UNJUDGED)
        counts: dict[int, int] = {}
        for g in qrels.values():
            if g >= 0:
                counts[g] = counts.get(g, 0) + 1
        return cls(grades, counts, relevance_level)

    @property
    def num_rel(self) -> int:
        return sum(c for g, c in self.level_counts.items() if g >= self.relevance_level)

    def is_rel(self, grade: int) -> bool:
        return grade >= self.relevance_level

    def rel_in_top(self, k: int) -> int:
        return sum(1 for g in self.grades[:k] if self.is_rel(g))


def average_precision(j: Judged, cutoff: int | None = None) -> float:
    total, found = 0.0, 0
    for i, g in enumerate(j.grades[:cutoff]):
        if j.is_rel(g):
            found += 1
            total += found / (i + 1)
    return total / j.num_rel if j.num_rel else 0.0


def precision(j: Judged, k: int) -> float:
    return j.rel_in_top(k) / k


def recall(j: Judged, k: int) -> float:
    return j.rel_in_top(k) / j.num_rel if j.num_rel else 0.0


def r_precision(j: Judged) -> float:
    return j.rel_in_top(j.num_rel) / j.num_rel if j.num_rel else 0.0


def reciprocal_rank(j: Judged, cutoff: int | None = None) -> float:
    for i, g in enumerate(j.grades[:cutoff]):
        if j.is_rel(g):
            return 1.0 / (i + 1)
    return 0.0


def _dcg(gains: Sequence[float]) -> float:
    """Gain at rank r discounted by log2(r + 1), as trec_eval 9.0.8 and pytrec_eval do."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains) if g > 0)


def ndcg(j: Judged, cutoff: int | None = None) -> float:
    ideal = sorted((g for g, c in j.level_counts.items() for _ in range(c) if g > 0), reverse=True)
    idcg = _dcg(ideal[:cutoff])
    return _dcg([max(g, 0) for g in j.grades[:cutoff]]) / idcg if idcg > 0 else 0.0


def bpref(j: Judged) -> float:
    num_rel = j.num_rel
    num_nonrel = sum(c for g, c in j.level_counts.items() if g < j.relevance_level)
    total, nonrel_so_far = 0.0, 0
    for g in j.grades:
        if g < 0:
            continue
        if not j.is_rel(g):
            nonrel_so_far += 1
        elif nonrel_so_far > 0:
            total += 1.0 - min(nonrel_so_far, num_rel) / min(num_nonrel, num_rel)
        else:
            total += 1.0
    return total / num_rel if num_rel else 0.0


def interpolated_precision(j: Judged, recalls: Sequence[float] = IPREC_RECALLS) -> list[float]:
    """Precision interpolated at recall levels, with trec_eval's rounding of levels to doc counts."""
    num_ret, num_rel = len(j.grades), j.num_rel
    num_rel_ret = j.rel_in_top(num_ret)
    cutoffs = [_round_half_away(r * num_rel) for r in recalls]
    out = [0.0] * len(recalls)
    cut = len(recalls) - 1
    while cut >= 0 and cutoffs[cut] > num_rel_ret:
        cut -= 1
    best = num_rel_ret / num_ret if num_ret else 0.0
    rel_so_far = num_rel_ret
    i = num_ret
    while i > 0 and rel_so_far > 0:
        best = max(best, rel_so_far / i)
        if j.is_rel(j.grades[i - 1]):
            while cut >= 0 and rel_so_far == cutoffs[cut]:
                out[cut] = best
                cut -= 1
            rel_so_far -= 1
        i -= 1
    while cut >= 0:
        out[cut] = best
        cut -= 1
    return out


def _round_half_away(x: float) -> int:
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


# ---- named measures -------------------------------------------------------------------------

_MEASURE = re.compile(r"^(?P<name>[a-z_]+?)(?:[@_](?P<k>\d+))?$")
_ALIASES = {
    "ndcg": "ndcg", "ndcg_cut": "ndcg", "map": "map", "ap": "map", "map_cut": "map",
    "mrr": "mrr", "rr": "mrr", "recip_rank": "mrr", "p": "p", "precision": "p",
    "recall": "recall", "r": "recall", "rprec": "rprec", "bpref": "bpref",
}
_NEEDS_K = {"p", "recall"}
_NO_K = {"rprec", "bpref"}


@dataclass(frozen=True)
class Measure:
    """A parsed measure name such as ndcg@10, map, mrr@10, p@5, recall@100."""

    kind: str
    cutoff: int | None
    name: str

    @classmethod
    def parse(cls, text: str) -> Measure:
        m = _MEASURE.match(text.strip().lower())
        kind = _ALIASES.get(m.group("name")) if m else None
        k = int(m.group("k")) if m and m.group("k") else None
        if kind is None or (kind in _NEEDS_K and k is None) or (kind in _NO_K and k is not None) or k == 0:
            known = "ndcg[@k], map[@k], mrr[@k], p@k, recall@k, rprec, bpref"
            raise JudgerankError(f"unknown measure {text!r}: use one of {known}")
        return cls(kind, k, text.strip())

    def __call__(self, j: Judged) -> float:
        k = self.cutoff
        if self.kind == "ndcg":
            return ndcg(j, k)
        if self.kind == "map":
            return average_precision(j, k)
        if self.kind == "mrr":
            return reciprocal_rank(j, k)
        if self.kind == "p":
            assert k is not None  # parse() demands a cutoff for p and recall
            return precision(j, k)
        if self.kind == "recall":
            assert k is not None
            return recall(j, k)
        if self.kind == "rprec":
            return r_precision(j)
        return bpref(j)


@dataclass(frozen=True)
class Evaluation:
    per_query: dict[str, dict[str, float]]
    mean: dict[str, float]


def evaluate(run: Run, qrels: Qrels, measures: Sequence[str], relevance_level: int = 1) -> Evaluation:
    """Measures per query and their mean over the queries found in both run and qrels."""
    parsed = [Measure.parse(m) for m in measures]
    per_query: dict[str, dict[str, float]] = {}
    for qid in sorted(run):
        if qid not in qrels:
            continue
        judged = Judged.build(run[qid], qrels[qid], relevance_level)
        per_query[qid] = {m.name: m(judged) for m in parsed}
    if not per_query:
        raise JudgerankError("run and qrels share no query id: nothing to evaluate")
    n = len(per_query)
    mean = {m.name: sum(q[m.name] for q in per_query.values()) / n for m in parsed}
    return Evaluation(per_query, mean)


def trec_eval_standard(
    run: Run, qrels: Qrels, relevance_level: int = 1, with_ndcg: bool = False
) -> list[tuple[str, str, float | int]]:
    """The rows plain `trec_eval` prints (its default measure set), per query and for 'all';
    with_ndcg adds its ndcg and ndcg_cut_* rows (as `-m all_trec` prints them)."""
    rows: list[tuple[str, str, float | int]] = []
    per_query = []
    for qid in sorted(run):
        if qid not in qrels:
            continue
        j = Judged.build(run[qid], qrels[qid], relevance_level)
        vals: dict[str, float | int] = {
            "num_ret": len(j.grades),
            "num_rel": j.num_rel,
            "num_rel_ret": j.rel_in_top(len(j.grades)),
            "map": average_precision(j),
            "gm_map": math.log(max(average_precision(j), MIN_GEO_MEAN)),
            "Rprec": r_precision(j),
            "bpref": bpref(j),
            "recip_rank": reciprocal_rank(j),
        }
        for r, v in zip(IPREC_RECALLS, interpolated_precision(j)):
            vals[f"iprec_at_recall_{r:.2f}"] = v
        for k in P_CUTOFFS:
            vals[f"P_{k}"] = precision(j, k)
        if with_ndcg:
            for k in P_CUTOFFS:
                vals[f"ndcg_cut_{k}"] = ndcg(j, k)
            vals["ndcg"] = ndcg(j)
        per_query.append((qid, vals))
    n = len(per_query)
    if n == 0:
        raise JudgerankError("run and qrels share no query id: nothing to evaluate")
    for qid, vals in per_query:
        rows.extend((name, qid, v) for name, v in vals.items() if name != "gm_map")
    names = list(per_query[0][1])
    for name in names:
        values = [vals[name] for _, vals in per_query]
        if name.startswith("num_"):
            rows.append((name, "all", int(sum(values))))
        elif name == "gm_map":
            rows.append((name, "all", math.exp(sum(values) / n)))
        else:
            rows.append((name, "all", sum(values) / n))
    rows.insert(len(rows) - len(names), ("num_q", "all", n))
    return rows


def format_trec_eval(name: str, qid: str, value: float | int | str) -> str:
    """One line in trec_eval's own layout."""
    shown = f"{value:6.4f}" if isinstance(value, float) else str(value)
    return f"{name:<22}\t{qid}\t{shown}"
