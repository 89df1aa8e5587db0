"""Model outputs judged against a reference model's, in AlpacaEval's layout.

Outputs (alpaca_eval's model_outputs.json): a JSON list, or JSON lines, of {"instruction",
"output", "generator"}. Each output of a model is paired with the reference's output to the same
instruction and judged in both orders (the reference shown first once, second once); the
annotations come back as AlpacaEval writes them: generator_1 (the reference), output_1,
generator_2, output_2, instruction, and preference = 1 + P(the model's output is better), so
1 is the reference preferred, 2 the model, 1.5 even. `judgerank winrate` reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judgerank.core.errors import JudgerankError, shown
from judgerank.core.types import Item, Query
from judgerank.io.files import read_text
from judgerank.io.jsonl import loads, parse_jsonl
from judgerank.judge.judge import Judge, PairJudgment, PairsJudged, PairTask


@dataclass(frozen=True)
class Output:
    instruction: str
    output: str
    generator: str


def read_outputs(path: str | Path) -> list[Output]:
    """A model's outputs, each line or entry checked (one line naming the file and entry)."""
    text = read_text(path)
    if text.lstrip().startswith("["):
        data = loads(text, path)
        records: list[tuple[int, Any]] = list(enumerate(data if isinstance(data, list) else [], 1))
        if not isinstance(data, list):
            raise JudgerankError(f"{path}: expected a JSON list of {{instruction, output, generator}}")
    else:
        records = list(parse_jsonl(text.splitlines(), path))
    found = []
    for number, record in records:
        fields = [record.get(k) if isinstance(record, dict) else None for k in ("instruction", "output", "generator")]
        if not all(isinstance(f, str) for f in fields):
            raise JudgerankError(f"{path}: entry {number}: an output is {{\"instruction\", \"output\", \"generator\"}} "
                                 f"strings, not {shown(record, 80)}")
        found.append(Output(*fields))  # type: ignore[arg-type]
    if not found:
        raise JudgerankError(f"{path}: no outputs in file")
    return found


def pair_with_reference(outputs: Sequence[Output], reference: Sequence[Output], source: str) -> list[PairTask]:
    """Each output against the reference's output to the same instruction (a = the reference)."""
    by_instruction = {r.instruction: r for r in reference}
    missing = [o.instruction for o in outputs if o.instruction not in by_instruction]
    if missing:
        raise JudgerankError(f"{source}: {len(missing)} of {len(outputs)} instructions have no reference output, "
                             f"e.g. {shown(missing[0], 60)}: give the reference outputs of the same instructions")
    return [PairTask(f"{o.generator}:{n}", Query(str(n), o.instruction),
                     Item(by_instruction[o.instruction].generator, by_instruction[o.instruction].output),
                     Item(o.generator, o.output))
            for n, o in enumerate(outputs)]


def judged_annotations(judge: Judge, tasks: Sequence[PairTask],
                on_judged: Callable[[PairJudgment], None] | None = None) -> tuple[list[dict[str, Any]], PairsJudged]:
    """The pairs judged (both orders) as AlpacaEval annotations, and the judging (its costs, whether
    the budget let it finish)."""
    done = judge.compare(tasks, on_judged=on_judged)
    rows = [{"instruction": j.task.query.text, "generator_1": j.task.a.id, "output_1": j.task.a.text,
             "generator_2": j.task.b.id, "output_2": j.task.b.text,
             "preference": round(1.0 + (1.0 - j.preference.prob), 6)} for j in done.judgments]
    return rows, done
