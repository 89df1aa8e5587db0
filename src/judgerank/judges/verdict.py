"""Response judge: which of two responses to a prompt is better, or a tie, asked in both orders.

Each order gives P(A), P(B) and P(tie) from the probabilities of the three answer letters. The
two orders are mapped back onto (a, b) and kept apart in the Preference, so that the verdict of
each order, the combined probability and P(tie) are all available to diagnostics.

A five-level template (judge-pair-5: A>>B, A>B, tie, B>A, B>>A, as arena-hard scores them) gives
the five probabilities in each order; they are kept in the Preference in a's frame, and P(a
preferred) is read from them as P(a>>b) + P(a>b) + P(tie) / 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from judgerank.backends.base import ChoiceResult
from judgerank.cache import CachedModel
from judgerank.judges.base import ask, in_groups
from judgerank.judges.templates import load_template
from judgerank.types import Item, Preference, Query

Matchup = tuple[Query, Item, Item]


class VerdictJudge:
    """A Comparer over responses; `compare_many` batches pairs from many prompts into one call."""

    def __init__(self, backend: CachedModel, template: str = "judge-pair", max_words: int = 400) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.with_reference = load_template(f"{template}-ref")
        self.max_words = max_words

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> list[Preference]:
        return self.compare_many([(query, a, b) for a, b in pairs])

    def compare_many(self, matchups: Sequence[Matchup]) -> list[Preference]:
        if not matchups:
            return []
        five = self.template.kind == "verdict5"
        requests = []
        for query, a, b in matchups:
            ta, tb = self.backend.clip(a.text, self.max_words), self.backend.clip(b.text, self.max_words)
            fields = {"question": self.backend.clip(query.text, self.max_words)}
            template = self.template
            if query.reference:
                template = self.with_reference
                fields["reference"] = self.backend.clip(query.reference, self.max_words)
            requests.append(template.request(**fields, a=ta, b=tb))
            requests.append(template.request(**fields, a=tb, b=ta))

        def preferences(results: Sequence[ChoiceResult | None]) -> list[Preference | None]:
            out: list[Preference | None] = []
            for (_, a, b), group in zip(matchups, in_groups(results, 2)):
                if group is None:
                    out.append(None)
                    continue
                first, second = (_answer_probs(r) for r in group)
                if five:  # shown order: first >> second, first > second, tie, second > first, second >> first
                    in_a_first, in_a_second = first, second[::-1]
                    out.append(
                        Preference(
                            a.id,
                            b.id,
                            p_a_first=float(in_a_first[0] + in_a_first[1] + 0.5 * in_a_first[2]),
                            p_a_second=float(in_a_second[0] + in_a_second[1] + 0.5 * in_a_second[2]),
                            tie_a_first=float(in_a_first[2]),
                            tie_a_second=float(in_a_second[2]),
                            levels_a_first=tuple(float(x) for x in in_a_first),
                            levels_a_second=tuple(float(x) for x in in_a_second),
                        )
                    )
                    continue
                # first shown wins, second wins, tie
                out.append(
                    Preference(
                        a.id,
                        b.id,
                        p_a_first=float(first[0] + 0.5 * first[2]),
                        p_a_second=float(second[1] + 0.5 * second[2]),
                        tie_a_first=float(first[2]),
                        tie_a_second=float(second[2]),
                    )
                )
            return out

        return ask(self.backend.choice_logprobs, requests, preferences)


def _answer_probs(result: ChoiceResult) -> np.ndarray:
    lp = np.array(result.logprobs, dtype=np.float64)
    p = np.exp(lp - lp.max())
    return p / p.sum()
