"""Reading judge inputs: responses to rank, or labelled pairs. JSONL, or one JSON list.

Ranking:  {"prompt_id": "p1", "prompt": "...", "responses": [{"id": "r1", "text": "..."}, ...],
           "reference": "..." (optional)}; responses may be plain strings (ids = positions).
Pairs:    {"id": ..., "input": "...", "output_1": "...", "output_2": "...", "label": 1}
          (LLMBar's layout); "prompt"/"instruction"/"question" name the prompt too.
The prompt is every one of prompt, instruction, question and input that the record fills, in
that order, a blank line apart: {"instruction": "Summarise.", "input": "<the text>"} (PandaLM's,
Alpaca's layout) is judged on both, and an empty "input" adds nothing.
A file holds one kind. Gold labels: 1/2, a/b, A>B / B>A, model_a / model_b, output_1 /
output_2, [[A]] / [[B]], and tie / 0 / 0.5 / draw / A=B for a tie (any case).
"""

from __future__ import annotations

from pathlib import Path

from judgerank.core.errors import JudgerankError, shown
from judgerank.core.types import Item, Query, Verdict
from judgerank.io.jsonl import item_of, read_records
from judgerank.judge.judge import PairTask

PROMPT_KEYS = ("prompt", "instruction", "question", "input")
GOLD: dict[str, Verdict] = {
    **dict.fromkeys(("1", "a", "a>b", "a>>b", "model_a", "output_1", "[[a]]", "response_a", "1.0"), "a"),
    **dict.fromkeys(("2", "b", "b>a", "b>>a", "model_b", "output_2", "[[b]]", "response_b", "2.0"), "b"),
    **dict.fromkeys(("0", "0.5", "tie", "draw", "a=b", "b=a", "[[c]]", "tie (bothbad)", "both_bad", "0.0"), "tie"),
}


def read_judge_input(path: str | Path, gold: str | None = None) -> list[tuple[Query, list[Item]]] | list[PairTask]:
    """Ranking tasks (query, responses) or PairTasks, by what the first record holds."""
    records = read_records(path)
    if not records:
        raise JudgerankError(f"{path}: no records")
    if "responses" in records[0][1]:
        if gold:
            raise JudgerankError(f"{path}: --gold needs pairs (output_1, output_2), not response lists")
        return [_ranking_task(path, number, r) for number, r in records]
    return [_pair_task(path, number, r, gold) for number, r in records]


def _prompt(path: str | Path, number: int, record: dict) -> Query:
    parts = [record[k].strip() for k in PROMPT_KEYS if isinstance(record.get(k), str) and record[k].strip()]
    if not parts:
        raise JudgerankError(f"{path}:{number}: no prompt: none of {', '.join(PROMPT_KEYS)} holds text")
    text = "\n\n".join(parts)
    reference = record.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise JudgerankError(f"{path}:{number}: 'reference' must be a string")
    qid = str(record.get("prompt_id", record.get("id", number)))
    return Query(qid, text, reference or None)


def _ranking_task(path: str | Path, number: int, record: dict) -> tuple[Query, list[Item]]:
    responses = record.get("responses")
    if not isinstance(responses, list) or not responses:
        raise JudgerankError(f"{path}:{number}: 'responses' must be a non-empty list")
    items = [item_of(r, f"{path}:{number}", str(n)) for n, r in enumerate(responses)]
    return _prompt(path, number, record), items


def _pair_task(path: str | Path, number: int, record: dict, gold: str | None) -> PairTask:
    query = _prompt(path, number, record)
    outputs = [record.get(k) for k in ("output_1", "output_2")]
    if not all(isinstance(o, str) for o in outputs):
        raise JudgerankError(f"{path}:{number}: a pair needs 'output_1' and 'output_2' strings (or 'responses')")
    label: Verdict | None = None
    if gold:
        if gold not in record:
            raise JudgerankError(f"{path}:{number}: no gold field {gold!r}")
        label = GOLD.get(" ".join(str(record[gold]).split()).lower())
        if label is None:
            raise JudgerankError(f"{path}:{number}: gold label {shown(record[gold], 30)} is not one of 1, 2, tie "
                                 "(or A>B, B>A, model_a, model_b, [[A]], [[B]], draw)")
    first, second = (str(o) for o in outputs)
    return PairTask(query.id, query, Item("1", first), Item("2", second), label)
