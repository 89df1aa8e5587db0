"""Reading battle records: CSV or JSONL (optionally gzipped) with model_a, model_b, winner.

Winner labels: model_a / a, model_b / b, tie / draw, both_bad. both_bad counts as a tie unless
both_bad="ignore" drops it. An unknown label or a missing column is an error naming the line.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from judgerank.aggregate.battles import Battles
from judgerank.errors import JudgerankError, shown
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
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as exc:
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
                f"{path}:{number}: unknown winner label {shown(record[col_w], 30)} (use model_a, model_b, tie or both_bad)"
            )
        if a == b:
            self_battles += 1  # says nothing about a's strength; counted and reported
            continue
        rows.append((a, b, outcome))
    if not rows:
        raise JudgerankError(f"{path}: no battles between two different players")
    return BattleFile(Battles.from_outcomes(rows), read, self_battles, dropped)


def as_battles(data: object) -> Battles:
    """Battles from what users hold: Battles, a battles file path, or a list of records
    {model_a, model_b, winner} or tuples (a, b, outcome) with outcome 1, 0 or 0.5 (or a winner
    label). Self-battles are left out; both_bad counts as a tie. A TypeError for anything else."""
    if isinstance(data, Battles):
        return data
    if isinstance(data, (str, Path)):
        return read_battles(data).battles
    if not hasattr(data, "__iter__"):
        raise TypeError(f"expected Battles, a battles file or a list of battles, not {type(data).__name__}")
    rows: list[tuple[str, str, float]] = []
    for n, record in enumerate(data):
        if isinstance(record, dict):
            try:
                a, b, result = record["model_a"], record["model_b"], record["winner"]
            except KeyError as exc:
                raise JudgerankError(f"battle {n}: missing field {exc.args[0]!r}") from None
        elif isinstance(record, (tuple, list)) and len(record) == 3:
            a, b, result = record
        else:
            raise TypeError(f"battle {n}: expected a dict with model_a, model_b, winner or an (a, b, outcome) tuple")
        if isinstance(result, (int, float)) and not isinstance(result, bool) and result in (0, 0.5, 1):
            outcome = float(result)
        elif str(result).strip().lower() in OUTCOMES or str(result).strip().lower() in BOTH_BAD:
            outcome = OUTCOMES.get(str(result).strip().lower(), 0.5)
        else:
            raise JudgerankError(f"battle {n}: unknown outcome {shown(result, 30)} (use 1, 0, 0.5 or model_a, model_b, tie)")
        if str(a) != str(b):
            rows.append((str(a), str(b), outcome))
    if not rows:
        raise JudgerankError("no battles between two different players")
    return Battles.from_outcomes(rows)
