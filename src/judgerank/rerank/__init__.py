"""The rerank job: order candidate passages for a query.

reranker.py is the facade (Reranker); files.py reads request files (JSONL, rank_llm
JSON, passages); evaluate.py scores runs exactly as trec_eval does; plan.py predicts what a
method will cost before it runs.
"""

from judgerank.rerank.reranker import Reranker

__all__ = ["Reranker"]
