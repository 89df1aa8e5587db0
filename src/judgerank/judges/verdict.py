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
from scipy.special import softmax

from judgerank.backends.base import ChoiceResult
from judgerank.core.types import Answers, Item, Preference, Query
from judgerank.judges.base import in_groups, prepared
from judgerank.judges.templates import PromptTemplate, load_template
from judgerank.judges.words import choose
from judgerank.store.cached import CachedModel

Matchup = tuple[Query, Item, Item]
NO_REFERENCE = "(no reference answer)"  # what a user's template that shows {reference} shows without one


class VerdictJudge:
    """A Comparer over responses; `compare_many` batches pairs from many prompts into one call."""

    def __init__(self, model: CachedModel, template: str | PromptTemplate = "judge-pair", max_words: int = 400) -> None:
        self.model = model
        if isinstance(template, str):  # a built-in template and its twin that shows a reference answer
            self.template, self.with_reference = load_template(template), load_template(f"{template}-ref")
        else:  # a user's own shows {reference} where it wants one
            self.template = self.with_reference = template
        self.max_words = max_words

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> Answers[Preference]:
        return self.compare_many([(query, a, b) for a, b in pairs])

    def compare_many(self, matchups: Sequence[Matchup]) -> Answers[Preference]:
        if not matchups:
            return Answers.whole([])
        m, words = self.model, self.max_words
        requests, about = [], []
        for query, a, b in matchups:
            ta, tb = prepared(m, a.text, words), prepared(m, b.text, words)
            fields = {"question": prepared(m, query.text, words), "reference": NO_REFERENCE}
            template = self.template
            if query.reference:
                template = self.with_reference
                fields["reference"] = prepared(m, query.reference, words)
            requests += [(template, template.request(**fields, a=ta, b=tb)),
                         (template, template.request(**fields, a=tb, b=ta))]
            about += [f"{query.id}: {a.id} (shown first) vs {b.id}", f"{query.id}: {b.id} (shown first) vs {a.id}"]
        five = self.template.kind == "verdict5"

        def preferences(results: Sequence[ChoiceResult | None]) -> list[Preference | None]:
            return [None if group is None else _preference(a.id, b.id, *group, five=five)
                    for (_, a, b), group in zip(matchups, in_groups(results, 2))]

        return choose(m, requests, about).map(preferences)


def _preference(a: str, b: str, first: ChoiceResult, second: ChoiceResult, *, five: bool) -> Preference:
    p1, p2 = _answer_probs(first), _answer_probs(second)
    if five:  # shown order: first >> second, first > second, tie, second > first, second >> first
        in_a_first, in_a_second = p1, p2[::-1]
        return Preference(
            a, b,
            p_a_first=float(in_a_first[0] + in_a_first[1] + 0.5 * in_a_first[2]),
            p_a_second=float(in_a_second[0] + in_a_second[1] + 0.5 * in_a_second[2]),
            tie_a_first=float(in_a_first[2]),
            tie_a_second=float(in_a_second[2]),
            levels_a_first=tuple(float(x) for x in in_a_first),
            levels_a_second=tuple(float(x) for x in in_a_second),
        )
    # first shown wins, second wins, tie
    return Preference(a, b, p_a_first=float(p1[0] + 0.5 * p1[2]), p_a_second=float(p2[1] + 0.5 * p2[2]),
                      tie_a_first=float(p1[2]), tie_a_second=float(p2[2]))


def _answer_probs(result: ChoiceResult) -> np.ndarray:
    return softmax(np.array(result.logprobs, dtype=np.float64))
