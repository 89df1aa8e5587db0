"""The assess job: LLM relevance labels (qrels) for a pool of runs, and how far they agree with
people's (judgerank assess, judgerank assess-eval)."""

from judgerank.assess.assessor import Assessment, Assessor, Label
from judgerank.assess.pool import pool, pool_requests, read_runs

__all__ = ["Assessment", "Assessor", "Label", "pool", "pool_requests", "read_runs"]
