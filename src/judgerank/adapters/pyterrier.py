"""PyTerrier: a transformer that reranks a result frame with judgerank, so that
`bm25 >> JudgerankReranker(...)` and pt.Experiment work. Reranking needs no Java.

    import pyterrier as pt
    from judgerank.adapters.pyterrier import JudgerankReranker

    pipeline = pt.Transformer.from_df(bm25_run) >> JudgerankReranker(method="pointwise", depth=20)
    pt.Experiment([pipeline], topics, qrels, eval_metrics=["nDCG@10"])

Input: a frame with qid, query, docno, text (and usually score, rank): one judgerank request per
query, its candidates in the incoming rank order. Output: the same rows and columns, with score
and rank replaced: score falls by one a rank (n for the best), exactly as `--out NAME.trec`
writes it, so every evaluator keeps judgerank's order; rank starts at 0 as PyTerrier's do;
judgerank_score holds the method's own score and judgerank_relevance the relevance in [0, 1].
The costs of every query add up in `costs`. Needs `pip install "judgerank[pyterrier]"`.
"""

from __future__ import annotations

from typing import Any

from judgerank.adapters.compat import require

require("pyterrier")

import pandas as pd  # noqa: E402
import pyterrier as pt  # noqa: E402

from judgerank.adapters.core import make_reranker, place  # noqa: E402
from judgerank.core.costs import Costs  # noqa: E402
from judgerank.core.errors import JudgerankError  # noqa: E402
from judgerank.strategies.registry import DEFAULT_RERANK_METHOD  # noqa: E402

NEEDED = ("qid", "query", "docno", "text")


class JudgerankReranker(pt.Transformer):
    """Reranks each query's documents. method, model, base_url, store, max_calls, max_tokens (each
    query's budget) and runtime as for judgerank.Reranker; other keyword arguments are method
    options (depth, window, ...). The model loads at the first query."""

    def __init__(
        self,
        method: str = DEFAULT_RERANK_METHOD,
        model: str | None = None,
        *,
        base_url: str | None = None,
        store: str | None = "default",
        max_calls: int | None = None,
        max_tokens: int | None = None,
        runtime: Any = None,
        **options: Any,
    ) -> None:
        self.method = method
        self.reranker = make_reranker(method, model, base_url=base_url, store=store, max_calls=max_calls,
                                      max_tokens=max_tokens, runtime=runtime, options=options)

    @property
    def costs(self) -> Costs:
        """What every query so far cost, added up."""
        return self.reranker.costs

    def __repr__(self) -> str:
        return f"JudgerankReranker({self.method!r})"

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in NEEDED if c not in inp.columns]
        if missing:
            raise JudgerankError(
                f"JudgerankReranker needs columns {', '.join(NEEDED)}; the frame lacks {', '.join(missing)} "
                "(add the passage text with pt.text.get_text(dataset, 'text') before it)"
            )
        if inp.empty:
            return inp.assign(score=pd.Series(dtype=float), rank=pd.Series(dtype=int),
                              judgerank_score=pd.Series(dtype=float), judgerank_relevance=pd.Series(dtype=float))
        order = [c for c in ("rank", "score") if c in inp.columns]
        frames = []
        for qid, group in inp.groupby("qid", sort=False):
            if order:  # the incoming order is the first stage's: by rank, else by falling score
                group = group.sort_values(order[0], ascending=order[0] == "rank", kind="stable")
            group = group.reset_index(drop=True)
            placed, _ = place(self.reranker, str(group["query"].iloc[0]), group["text"].astype(str).tolist(), str(qid))
            n = len(placed)
            rows = group.iloc[[p.index for p in placed]].copy()
            rows["score"] = [float(n - r) for r in range(n)]
            rows["rank"] = list(range(n))
            rows["judgerank_score"] = [p.score for p in placed]
            rows["judgerank_relevance"] = [p.relevance for p in placed]
            frames.append(rows)
        return pd.concat(frames, ignore_index=True)

    def close(self) -> None:
        """Release the model and the judgment store."""
        self.reranker.close()
