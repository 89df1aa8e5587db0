"""What a flag does to a ranking, by the user's choice.

- "flag": the order is the method's; flags are only reported;
- "demote" (default): flagged items go below every unflagged one, keeping their relative order,
  each score lowered to at most the lowest unflagged one's (scores follow the order);
- "drop": flagged items leave the ranking (they are still listed in `flags`);
- "off": no detection at all.

Every flag acts, the cascade's cross-stage inconsistency too: on DL19 with Qwen2.5-Coder-0.5B,
demoting the candidates it flags in the clean rankings moved nDCG@10 from 0.5963 to 0.5996
(docs/benchmarks/safety.md), so it costs no quality there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from judgerank.core.types import Item, Query, Ranking, Verdict
from judgerank.guard.detect import detect_items

GUARD_POLICIES = ("demote", "flag", "drop", "off")


def apply_policy(ranking: Ranking, flags: dict[str, list[str]], policy: str) -> Ranking:
    """The ranking with `flags` attached and acted on by `policy` (changed in place, returned)."""
    if policy == "off":
        return ranking
    ranking.flags = {i: sorted(set(f)) for i, f in flags.items() if f}
    acting = set(ranking.flags)
    if policy == "flag" or not acting:
        return ranking
    keep = [n for n, i in enumerate(ranking.ids) if i not in acting]
    moved = [n for n, i in enumerate(ranking.ids) if i in acting] if policy == "demote" else []
    floor = min((s for n in keep if (s := ranking.scores[n]) is not None), default=None)
    ranking.ids = [ranking.ids[n] for n in keep + moved]
    ranking.scores = [ranking.scores[n] for n in keep] + [
        s if s is None or floor is None else min(s, floor) for s in (ranking.scores[n] for n in moved)]
    return ranking


def guarded(ranking: Ranking, query: Query, items: Sequence[Item], policy: str, *, stuffing: bool = True,
            found: Mapping[str, list[str]] | None = None) -> Ranking:
    """The ranking with what the detector flags among `items` (and `found`, what the strategy
    itself found suspect) acted on by `policy`; stuffing as for detect. Every job's one guard."""
    if policy == "off":
        return ranking
    flags = detect_items(query, items, stuffing=stuffing)
    for i, codes in (found or {}).items():
        flags[i] = flags.get(i, []) + codes
    return apply_policy(ranking, flags, policy)


def guarded_verdict(verdict: Verdict, flags_a: list[str], flags_b: list[str], policy: str) -> Verdict:
    """A pair's verdict under the policy: with demote or drop, a response whose text addresses the
    judge loses to one that does not (both or neither flagged: the judge's verdict stands)."""
    if policy not in ("demote", "drop") or bool(flags_a) == bool(flags_b):
        return verdict
    return "b" if flags_a else "a"
