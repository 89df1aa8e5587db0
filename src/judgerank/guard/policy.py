"""What a flag does to a ranking, by the user's choice.

- "flag": the order is the method's; flags are only reported;
- "demote" (default): flagged items go below every unflagged one, keeping their relative order;
- "drop": flagged items leave the ranking (they are still listed in `flags`);
- "off": no detection at all.

Only flags that say the text addresses the ranker act (`ACTING`); a cross-stage inconsistency is
reported but never moves an item, because relevant passages are sometimes judged far above what
their embedding suggests.
"""

from __future__ import annotations

from judgerank.types import Ranking, Verdict

GUARD_POLICIES = ("demote", "flag", "drop", "off")
ACTING = frozenset({"instruction", "forged-answer", "template-marker", "query-stuffing"})


def apply_policy(ranking: Ranking, flags: dict[str, list[str]], policy: str) -> Ranking:
    """The ranking with `flags` attached and acted on by `policy` (changed in place, returned)."""
    if policy == "off":
        return ranking
    ranking.flags = {i: sorted(set(f)) for i, f in flags.items() if f}
    acting = {i for i, f in ranking.flags.items() if ACTING & set(f)}
    if policy == "flag" or not acting:
        return ranking
    keep = [n for n, i in enumerate(ranking.ids) if i not in acting]
    moved = [n for n, i in enumerate(ranking.ids) if i in acting] if policy == "demote" else []
    order = keep + moved
    ranking.ids = [ranking.ids[n] for n in order]
    ranking.scores = [ranking.scores[n] for n in order]
    return ranking


def acts(flags: list[str] | None) -> bool:
    """Whether these flags are ones the policy acts on."""
    return bool(flags) and bool(ACTING & set(flags or ()))


def guarded_verdict(verdict: Verdict, flags_a: list[str], flags_b: list[str], policy: str) -> Verdict:
    """A pair's verdict under the policy: with demote or drop, a response whose text addresses the
    judge loses to one that does not (both or neither flagged: the judge's verdict stands)."""
    if policy not in ("demote", "drop") or acts(flags_a) == acts(flags_b):
        return verdict
    return "b" if acts(flags_a) else "a"
