"""The judge job: order candidate responses to a prompt (LLM-as-a-judge, best-of-N), decide
labelled pairs, pool several judges, and say how far to trust them.

judge.py is the facade (Judge); jury.py pools juries of judges; diagnostics.py measures
a judge's self-consistency; agreement.py its agreement with gold labels and with other judges;
report_card.py and report.py the report card; files.py reads responses and labelled pairs.
"""

from judgerank.judge.judge import Judge, PairJudgment, PairsJudged, PairTask, RankedResponses, ResponseJudge
from judgerank.judge.jury import Juror, Jury, JuryResult

__all__ = ["Judge", "Juror", "Jury", "JuryResult", "PairJudgment", "PairTask", "PairsJudged", "RankedResponses",
           "ResponseJudge"]
