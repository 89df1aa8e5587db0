"""A report card for a judge: how far its verdicts on labelled pairs can be trusted.

Per judge (and per pooled jury verdict):
- accuracy and Cohen's kappa against gold, 2-way and 3-way (judgerank.judge.agreement), for the
  verdict from both orders (b);
- position consistency: the most likely answer unchanged with the order swapped;
- length bias: of its decisive verdicts, the share that prefers the longer response (characters),
  beside the same share of the decisive gold labels;
- calibration of P(A): the Brier score against gold (a = 1, b = 0, tie = 1/2) and a reliability
  table (P(A) in ten bins: mean predicted against observed);
- cost per judged pair: LLM calls, prompt tokens, seconds (cache hits cost no calls);
and between judges, Cohen's kappa of their verdicts on the pairs both decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from judgerank.core.costs import Costs
from judgerank.core.types import Verdict, verdict_of
from judgerank.judge.agreement import Agreement, cohen_kappa
from judgerank.judge.diagnostics import position_consistency
from judgerank.judge.judge import PairJudgment, PairTask, gold_agreement
from judgerank.judge.jury import POOLED_RULES, JuryResult, pooled_agreement

BINS = 10
GOLD_VALUE = {"a": 1.0, "b": 0.0, "tie": 0.5}


@dataclass
class Card:
    name: str
    pairs: int
    agreement: Agreement | None  # verdict (b) (or the pooled verdict) against gold
    position_consistency: float | None  # None for a pooled verdict
    longer_preferred: float | None  # share of decisive verdicts preferring the longer response
    gold_longer_preferred: float | None
    brier: float | None
    reliability: list[tuple[float, float, int]] = field(default_factory=list)  # (mean P(A), observed, pairs) per bin
    calls_per_pair: float | None = None
    tokens_per_pair: float | None = None
    seconds_per_pair: float | None = None

    def as_dict(self) -> dict:
        out = dict(vars(self))
        out["agreement"] = self.agreement.as_dict() if self.agreement else None
        return out


def card(
    name: str,
    tasks: Sequence[PairTask],
    verdicts: Sequence[Verdict],
    p_a: Sequence[float],
    *,
    judgments: Sequence[PairJudgment] | None = None,
    agreement: Agreement | None = None,
    costs: Costs | None = None,
) -> Card:
    """The card of one judge (judgments given: its position consistency) or pooled verdict."""
    gold = [t.gold for t in tasks]
    labelled = all(g is not None for g in gold) and len(gold) > 0
    longer = [_longer(t) for t in tasks]
    decisive = [(v, side) for v, side in zip(verdicts, longer) if v != "tie" and side is not None]
    gold_decisive = [(g, side) for g, side in zip(gold, longer) if g in ("a", "b") and side is not None]
    n = len(tasks)
    return Card(
        name=name,
        pairs=n,
        agreement=agreement,
        position_consistency=position_consistency([j.preference for j in judgments]) if judgments else None,
        longer_preferred=float(np.mean([v == side for v, side in decisive])) if decisive else None,
        gold_longer_preferred=float(np.mean([g == side for g, side in gold_decisive])) if gold_decisive else None,
        brier=float(np.mean([(p - GOLD_VALUE[g]) ** 2 for p, g in zip(p_a, gold) if g])) if labelled else None,
        reliability=_reliability(p_a, gold) if labelled else [],
        calls_per_pair=costs.calls / n if costs and n else None,
        tokens_per_pair=costs.prompt_tokens / n if costs and n else None,
        seconds_per_pair=costs.seconds / n if costs and n else None,
    )


def judge_card(name: str, judgments: Sequence[PairJudgment], costs: Costs | None = None) -> Card:
    tasks = [j.task for j in judgments]
    labelled = bool(tasks) and all(t.gold is not None for t in tasks)
    return card(name, tasks, [j.probability for j in judgments], [j.preference.prob for j in judgments],
                judgments=judgments, agreement=gold_agreement(judgments)["probability"] if labelled else None,
                costs=costs)


def _longer(task: PairTask) -> Verdict | None:
    side = verdict_of(len(task.a.text) - len(task.b.text))
    return None if side == "tie" else side


def _reliability(p_a: Sequence[float], gold: Sequence[Verdict | None]) -> list[tuple[float, float, int]]:
    p = np.asarray(p_a, dtype=float)
    y = np.array([GOLD_VALUE[g] for g in gold if g is not None])
    which = np.minimum((p * BINS).astype(int), BINS - 1)
    return [(float(p[which == b].mean()), float(y[which == b].mean()), int((which == b).sum()))
            for b in range(BINS) if (which == b).any()]


def kappa_matrix(verdicts: dict[str, dict[str, Verdict]]) -> tuple[list[str], np.ndarray]:
    """Cohen's kappa between every two judges' verdicts (judge -> pair id -> verdict), on the
    pairs both decided; 1 on the diagonal, NaN where two judges share no pair."""
    names = list(verdicts)
    m = np.eye(len(names))
    for i, x in enumerate(names):
        for j, y in enumerate(names[:i]):
            shared = [k for k in verdicts[x] if k in verdicts[y]]
            m[i, j] = m[j, i] = cohen_kappa([verdicts[x][k] for k in shared],
                                            [verdicts[y][k] for k in shared]) if shared else np.nan
    return names, m


def jury_cards(result: JuryResult) -> list[Card]:
    """A card per juror, then one per pooled verdict (mean, majority, spectral weights)."""
    cards = [judge_card(name, result.judgments_of(name), result.costs.get(name)) for name in result.jurors
             if result.judgments_of(name)]
    if len(result.jurors) < 2 or not result.pairs:
        return cards
    tasks = [p.task for p in result.pairs]
    labelled = all(t.gold is not None for t in tasks)
    pooled = pooled_agreement(result) if labelled else {}
    for rule, p_a in (("mean", [p.p_a for p in result.pairs]), ("majority", [p.majority_p_a for p in result.pairs]),
                      ("weighted", [p.p_a if p.weighted_p_a is None else p.weighted_p_a for p in result.pairs])):
        verdicts = [p.pooled(rule) for p in result.pairs]
        cards.append(card(POOLED_RULES[rule], tasks, verdicts, p_a, agreement=pooled.get(rule)))
    return cards
