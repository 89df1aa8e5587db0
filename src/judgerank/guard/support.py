"""The judge's promotions that no cheaper order supports, whatever the text says.

The detector reads words, and an attack can always be phrased in words it was not written for (a
claim of relevance put another way, a language it does not cover). What an attack on an
irrelevant text shows instead is its effect: a candidate that the retriever and the embedding both
rank near the bottom is lifted by the LLM alone into the part of the list a reader sees. That is also what a
weak judge's noise looks like. So a candidate the LLM put in the top half of what it saw, while
the input order and the embedding's order both put it in their bottom quarter, is flagged
`inconsistent`, and the guard's policy acts on it as on any flag. What this cannot see: an
attack that also lifts the text in the embedding's order (by pasting in the query's words, which
the detector's stuffing and echo rules look for), and a promotion from the middle of the list.

Measured (docs/benchmarks/safety.md, `bench/injection_families.py --clean`): on DL19's BM25 top
20 with pointwise, demoting these raised clean nDCG@10 on both halves of the queries for
SmolLM2-135M (+0.023, +0.018) and Qwen2.5-Coder-0.5B (+0.011, +0.012), whose promotions from the
bottom are more often wrong than right, and cost Qwen2.5-Coder-1.5B over the embedding's top 20
0.003 and 0.002. The bar is the bottom quarter, not the bottom half, so that a strong judge's
real finds are left alone more often than a weak judge's noise is. It was chosen with every DL19
query in view; on SciFact queries it was not chosen with, it cost neither Qwen model anything on
either half (docs/benchmarks/safety.md).
"""

from __future__ import annotations

from collections.abc import Sequence


def unsupported(judged: Sequence[str], by_input: Sequence[str], by_embedding: Sequence[str]) -> dict[str, list[str]]:
    """The ids the LLM's order `judged` puts in its top half that `by_input` and `by_embedding`
    (the same ids in the retriever's and the embedding's order) both put in their bottom quarter,
    each with the flag code 'inconsistent'."""
    n = len(by_input)
    if n < 4:
        return {}  # no bottom quarter to come from
    at_input = {d: r for r, d in enumerate(by_input)}
    at_embedding = {d: r for r, d in enumerate(by_embedding)}
    low = 3 * n / 4
    return {d: ["inconsistent"] for d in judged[: (n + 1) // 2]
            if at_input[d] >= low and at_embedding[d] >= low}
