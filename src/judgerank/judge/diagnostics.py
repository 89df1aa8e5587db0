"""How far to trust a judge: its self-consistency, measured from its own judgments.

- position consistency: the share of pairs whose verdict stays the same with the order swapped;
- score-comparison inconsistency: the share of pairs where the order of the pointwise scores
  contradicts the pairwise verdict (an equal score against a decided verdict counts);
- transitivity: the share of triads (three responses to one prompt, every pair judged) whose
  verdicts fit no ranking, ties allowed (a > b > c > a, or a = b, b = c, a > c);
- ties: the share of tie verdicts.

Verdicts are 'a', 'b' or 'tie'. Two verdict rules are measured side by side: the naive one (the
most likely answer with a shown first) and the probabilistic one (the probability of a winning,
averaged over both orders, above or below one half).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

from judgerank.core.types import Preference, Verdict, verdict_of

VerdictRule = Callable[[Preference], Verdict]


def naive_verdict(pref: Preference) -> Verdict:
    return pref.order_verdicts[0]


def probability_verdict(pref: Preference) -> Verdict:
    """The combined verdict (Preference.verdict), as a rule to measure beside the naive one."""
    return pref.verdict


def score_verdict(score_a: float, score_b: float) -> Verdict:
    return verdict_of(score_a - score_b)


def position_consistency(prefs: Sequence[Preference]) -> float | None:
    if not prefs:
        return None
    return sum(first == second for first, second in (p.order_verdicts for p in prefs)) / len(prefs)


def score_comparison_inconsistency(
    prefs: Sequence[Preference], scores: Mapping[str, float], rule: VerdictRule
) -> float | None:
    judged = [p for p in prefs if p.a in scores and p.b in scores]
    if not judged:
        return None
    return sum(score_verdict(scores[p.a], scores[p.b]) != rule(p) for p in judged) / len(judged)


def intransitive_triads(prefs: Sequence[Preference], rule: VerdictRule) -> tuple[int, int]:
    """(intransitive triads, triads) among the pairs judged. Preferences for different prompts
    must use distinct ids (the caller prefixes them), since a triad is three ids."""
    sign: dict[tuple[str, str], int] = {}
    neighbours: dict[str, set[str]] = {}
    for p in prefs:
        s = {"a": 1, "b": -1, "tie": 0}[rule(p)]
        sign[(p.a, p.b)], sign[(p.b, p.a)] = s, -s
        neighbours.setdefault(p.a, set()).add(p.b)
        neighbours.setdefault(p.b, set()).add(p.a)
    triads = bad = 0
    for x in sorted(neighbours):
        for y, z in itertools.combinations(sorted(n for n in neighbours[x] if n > x), 2):
            if z in neighbours[y]:
                triads += 1
                bad += not _fits_a_ranking(sign[(x, y)], sign[(y, z)], sign[(x, z)])
    return bad, triads


def _fits_a_ranking(xy: int, yz: int, xz: int) -> bool:
    """Some levels (rx, ry, rz) give sign(rx - ry) = xy, sign(ry - rz) = yz, sign(rx - rz) = xz."""
    sgn = lambda v: (v > 0) - (v < 0)  # noqa: E731
    return any(
        (sgn(rx - ry), sgn(ry - rz), sgn(rx - rz)) == (xy, yz, xz)
        for rx, ry, rz in itertools.product(range(3), repeat=3)
    )


@dataclass
class Diagnostics:
    """Self-consistency of one batch of judgments; None where there was nothing to measure."""

    pairs: int
    position_consistency: float | None
    naive_tie_rate: float | None
    mean_p_tie: float | None
    triads: int
    naive_intransitive_rate: float | None
    probability_intransitive_rate: float | None
    naive_score_inconsistency: float | None
    probability_score_inconsistency: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def diagnose(
    prefs: Sequence[Preference],
    expected_scores: Mapping[str, float] | None = None,
    argmax_scores: Mapping[str, float] | None = None,
) -> Diagnostics:
    """All diagnostics at once. The naive score-comparison figure compares the most likely
    ratings (argmax_scores) with naive verdicts; the probabilistic one compares expected
    ratings with probability verdicts."""
    n = len(prefs)
    bad_naive, triads = intransitive_triads(prefs, naive_verdict)
    bad_prob, _ = intransitive_triads(prefs, probability_verdict)
    return Diagnostics(
        pairs=n,
        position_consistency=position_consistency(prefs),
        naive_tie_rate=sum(naive_verdict(p) == "tie" for p in prefs) / n if n else None,
        mean_p_tie=sum(p.p_tie for p in prefs) / n if n else None,
        triads=triads,
        naive_intransitive_rate=bad_naive / triads if triads else None,
        probability_intransitive_rate=bad_prob / triads if triads else None,
        naive_score_inconsistency=(
            score_comparison_inconsistency(prefs, argmax_scores, naive_verdict) if argmax_scores else None
        ),
        probability_score_inconsistency=(
            score_comparison_inconsistency(prefs, expected_scores, probability_verdict) if expected_scores else None
        ),
    )
