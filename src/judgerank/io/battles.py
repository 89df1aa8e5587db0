"""Reading battle records: CSV or JSONL (optionally gzipped) with model_a, model_b, winner.

Winner labels: model_a / a, model_b / b, tie / draw, both_bad. both_bad counts as a tie unless
both_bad="ignore" drops it. An unknown label or a missing column is an error naming the line.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from judgerank.aggregate.battles import Battles
from judgerank.errors import JudgerankError
from judgerank.io.jsonl import parse_jsonl

BothBad = Literal["tie", "ignore"]
OUTCOMES = {"model_a": 1.0, "a": 1.0, "model_b": 0.0, "b": 0.0, "tie": 0.5, "draw": 0.5}
BOTH_BAD = {"both_bad", "tie (bothbad)"}


@dataclass(frozen=True)
class BattleFile:
    battles: Battles
    rows: int  # records read, before anything was dropped
    self_battles: int
    dropped_both_bad: int


def _open(path: Path) -> io.TextIOBase:
    if not path.is_file():
        raise JudgerankError(f"{path}: no such file")
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def _records(path: Path, columns: tuple[str, str, str]) -> Iterator[tuple[int, dict]]:
    stem = path.name.removesuffix(".gz")
    try:
        with _open(path) as fh:
            if stem.endswith((".jsonl", ".json")):
                yield from parse_jsonl(fh, path)
            else:
                reader = csv.DictReader(fh)
                missing = [c for c in columns if c not in (reader.fieldnames or [])]
                if missing:
                    raise JudgerankError(f"{path}: missing column(s) {', '.join(missing)}; found {reader.fieldnames}")
                yield from enumerate(reader, 2)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise JudgerankError(f"{path}: cannot read ({exc})") from exc


def read_battles(
    path: str | Path,
    both_bad: BothBad = "tie",
    columns: tuple[str, str, str] = ("model_a", "model_b", "winner"),
) -> BattleFile:
    path = Path(path)
    col_a, col_b, col_w = columns
    rows: list[tuple[str, str, float]] = []
    read = self_battles = dropped = 0
    for number, record in _records(path, columns):
        read += 1
        try:
            a, b, label = str(record[col_a]), str(record[col_b]), str(record[col_w]).strip().lower()
        except KeyError as exc:
            raise JudgerankError(f"{path}:{number}: missing field {exc.args[0]!r}") from None
        if label in BOTH_BAD:
            if both_bad == "ignore":
                dropped += 1
                continue
            outcome = 0.5
        elif label in OUTCOMES:
            outcome = OUTCOMES[label]
        else:
            raise JudgerankError(
                f"{path}:{number}: unknown winner label {record[col_w]!r} (use model_a, model_b, tie or both_bad)"
            )
        if a == b:
            self_battles += 1  # says nothing about a's strength; counted and reported
            continue
        rows.append((a, b, outcome))
    if not rows:
        raise JudgerankError(f"{path}: no battles between two different players")
    return BattleFile(Battles.from_outcomes(rows), read, self_battles, dropped)
