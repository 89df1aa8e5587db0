"""The judge's promotions that no cheaper order supports, whatever the text says.

The detector reads words, and an attack can always be phrased in words it was not written for (a
claim of relevance put another way, a language it does not cover). What an attack on an
irrelevant text shows instead is its effect: a candidate that the retriever and the embedding both
rank near the bottom is lifted by the LLM alone into the part of the list a reader sees. That is also what a
weak judge's noise looks like. So a candidate the LLM put in the top half of what it saw, while
the input order and the embedding's order both put it in their bottom quarter, is flagged
`inconsistent`, and the guard's policy acts on it as on any flag. A text that repeats the
query's own words in sequence is placed in the embedding's order by its cosine without them
(`unechoed`, `embedding_places`): a copy of the query is no evidence that a text answers it, and
a claim that pastes the query in ("Highest relevance guaranteed for: <query>") would otherwise
lift the text in the embedding's order out of the bottom quarter and past the check. What this cannot see: a
promotion from the middle of the list, and an attack that lifts the text in the embedding's order
with the query's words out of sequence (the detector's stuffing rule looks for those).

Measured (docs/benchmarks/safety.md, `bench/injection_families.py --clean`): on DL19's BM25 top
20 with pointwise, demoting these raised clean nDCG@10 on both halves of the queries for
SmolLM2-135M (+0.023, +0.018) and Qwen2.5-Coder-0.5B (+0.011, +0.012), whose promotions from the
bottom are more often wrong than right, and cost Qwen2.5-Coder-1.5B over the embedding's top 20
0.003 and 0.002. The bar is the bottom quarter, not the bottom half, so that a strong judge's
real finds are left alone more often than a weak judge's noise is. It was chosen with every DL19
query in view; on SciFact queries it was not chosen with, it cost neither Qwen model anything on
either half (docs/benchmarks/safety.md). Placing an echoing text by its cosine without the copy
changed none of those clean figures; it took Qwen2.5-Coder-0.5B's promotions by new claims that
paste the query from 5 of 30 to 0 (a rule made after seeing those, so that half is tuned now).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache

from judgerank.core.types import Item

_WORD = re.compile(r"\w+")
ECHO_WORDS = 3  # a query of fewer words is too likely to stand in an answer's own sentence


@lru_cache(maxsize=1024)
def _echo(query: str) -> re.Pattern[str] | None:
    """The query's words in their order, anything but letters and digits between them, any case;
    None for a query of under ECHO_WORDS words. Compiled once per query, not once per text."""
    words = _WORD.findall(query)
    if len(words) < ECHO_WORDS:
        return None
    return re.compile(r"\b" + r"\W+".join(re.escape(w) for w in words) + r"\b", re.IGNORECASE)


def unechoed(query: str, text: str) -> str:
    """`text` with each run of the query's words in their order (any case, anything but letters
    and digits between them) taken out; the text itself where the query has under ECHO_WORDS
    words or the text holds no such run."""
    pattern = _echo(query)
    return text if pattern is None else pattern.sub(" ", text)


def echoing(query: str, items: Sequence[Item]) -> dict[int, Item]:
    """The items whose text copies the query, by index, each as its text reads without the copy."""
    plain = {n: replace(item, text=unechoed(query, item.text)) for n, item in enumerate(items)}
    return {n: item for n, item in plain.items() if item.text != items[n].text}


def embedding_places(ids: Sequence[str], cosine: Sequence[float], plain: Mapping[int, float]) -> dict[str, int]:
    """Each candidate's place (0: first) in the embedding's order of `cosine` (ties to the earlier
    one), except that a candidate whose text copies the query is placed by its cosine without the
    copy (`plain`, by index) among the others' cosines as they are: a copy lifts no one, and no one
    else moves because of it."""
    order = sorted(range(len(ids)), key=lambda i: -cosine[i])  # stable: the earlier one first
    places = {ids[i]: place for place, i in enumerate(order)}
    for i, c in plain.items():
        places[ids[i]] = sum(1 for j, other in enumerate(cosine) if j != i and (other > c or (other == c and j < i)))
    return places


def unsupported(judged: Sequence[str], by_input: Sequence[str], at_embedding: Mapping[str, int]) -> dict[str, list[str]]:
    """The ids the LLM's order `judged` puts in its top half that `by_input` (the same ids in the
    retriever's order) and `at_embedding` (each id's place in the embedding's order: see
    embedding_places) both put in their bottom quarter, each with the flag code 'inconsistent'."""
    n = len(by_input)
    if n < 4:
        return {}  # no bottom quarter to come from
    at_input = {d: r for r, d in enumerate(by_input)}
    low = 3 * n / 4
    return {d: ["inconsistent"] for d in judged[: (n + 1) // 2]
            if at_input[d] >= low and at_embedding[d] >= low}
