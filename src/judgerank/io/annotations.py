"""Reading judged instructions for win rates against a baseline (judgerank.length_control).

Two layouts, JSON list or JSONL:
- AlpacaEval annotations: generator_1 (the baseline), generator_2, output_1, output_2,
  preference (1 = baseline preferred ... 2 = model preferred, fractional for weighted judges;
  0 or 1.5 a draw; null is left out), instruction, index (optional; the key of the
  instruction's difficulty when present).
- Battles with texts, as `judgerank judge --battles` and arena logs write them: model_a,
  model_b, winner (model_a / model_b / tie) or p_a, response_a, response_b, and prompt_id or
  instruction. Rows without the baseline on one side are left out (counted).
Plus the two optional AlpacaEval tables: instruction difficulty (CSV: key, difficulty) and
gamed-baseline rows (AlpacaEval's df_gamed.csv: index, preference in [0, 1], std_delta_len,
instruction_difficulty).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from judgerank.errors import JudgerankError, shown
from judgerank.io.jsonl import loads, parse_jsonl
from judgerank.length_control import Gamed, Judged

WINNERS = {"model_a": 1.0, "a": 1.0, "model_b": 0.0, "b": 0.0, "tie": 0.5, "draw": 0.5}


@dataclass(frozen=True)
class JudgedFile:
    rows: list[Judged]
    read: int
    without_baseline: int  # battles between two other models, left out
    undecided: int  # null preferences, left out


def read_judged(path: str | Path, baseline: str) -> JudgedFile:
    path = Path(path)
    if not path.is_file():
        raise JudgerankError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise JudgerankError(f"{path}: cannot read ({exc})") from exc
    if text.lstrip().startswith("["):
        data = loads(text, path)
        records = list(enumerate(data, 1))
    else:
        with path.open(encoding="utf-8") as fh:
            records = list(parse_jsonl(fh, path))
    rows: list[Judged] = []
    skipped = undecided = 0
    seen: set[str] = set()
    for number, record in records:
        if not isinstance(record, dict):
            raise JudgerankError(f"{path}:{number}: expected an object with generator_1/generator_2 or model_a/model_b")
        judged: Judged | str | None
        seen.update(str(record.get(k)) for k in ("generator_1", "model_a", "model_b") if k in record)
        if "generator_2" in record:
            judged = _alpaca(record, path, number) if record.get("generator_1") == baseline else None
        else:
            judged = _battle(record, baseline, path, number)
        if judged is None:
            skipped += 1
        elif isinstance(judged, str):  # "undecided"
            undecided += 1
        else:
            rows.append(judged)
    if not rows:
        names = ", ".join(sorted(seen)[:8]) + (", ..." if len(seen) > 8 else "")
        raise JudgerankError(f"{path}: baseline {baseline!r} is on no side of any record; the file has: {names}")
    return JudgedFile(rows, len(records), skipped, undecided)


def _field(record: dict, name: str, path: Path, number: int) -> object:
    if name not in record:
        raise JudgerankError(f"{path}:{number}: missing field {name!r}")
    return record[name]


def _alpaca(record: dict, path: Path, number: int) -> Judged | str:
    raw = record.get("preference")
    if raw is None:
        return "undecided"
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise JudgerankError(f"{path}:{number}: preference {shown(raw, 30)} is not a number") from None
    if math.isnan(value):
        return "undecided"
    value = 1.5 if value == 0.0 else value
    if not 1.0 <= value <= 2.0:
        raise JudgerankError(f"{path}:{number}: preference {value} is outside 1 (baseline) to 2 (model); 0 is a draw")
    key = record.get("index", _field(record, "instruction", path, number))
    return Judged(
        model=str(_field(record, "generator_2", path, number)),
        instruction=str(key),
        preference=value - 1.0,
        model_length=len(str(_field(record, "output_2", path, number))),
        baseline_length=len(str(_field(record, "output_1", path, number))),
    )


def _battle(record: dict, baseline: str, path: Path, number: int) -> Judged | None:
    a, b = str(_field(record, "model_a", path, number)), str(_field(record, "model_b", path, number))
    if baseline not in (a, b) or a == b:
        return None
    if "p_a" in record:
        try:
            p_a = float(record["p_a"])
        except (TypeError, ValueError):
            raise JudgerankError(f"{path}:{number}: p_a {shown(record['p_a'], 30)} is not a number") from None
        if not 0.0 <= p_a <= 1.0:
            raise JudgerankError(f"{path}:{number}: p_a {p_a} is not a probability")
    else:
        label = str(_field(record, "winner", path, number)).strip().lower()
        if label not in WINNERS:
            raise JudgerankError(f"{path}:{number}: unknown winner label {shown(label, 30)} (use model_a, model_b or tie)")
        p_a = WINNERS[label]
    key = record.get("prompt_id", record.get("instruction"))
    if key is None:
        raise JudgerankError(f"{path}:{number}: missing field 'prompt_id' (or 'instruction')")
    text_a, text_b = (str(_field(record, f"response_{s}", path, number)) for s in "ab")
    model_is_a = b == baseline
    return Judged(
        model=a if model_is_a else b,
        instruction=str(key),
        preference=p_a if model_is_a else 1.0 - p_a,
        model_length=len(text_a if model_is_a else text_b),
        baseline_length=len(text_b if model_is_a else text_a),
    )


def read_difficulty(path: str | Path) -> dict[str, float]:
    """Two columns, instruction key and difficulty, with a header row (AlpacaEval's file)."""
    path = Path(path)
    out: dict[str, float] = {}
    for number, row in _csv_rows(path):
        if len(row) < 2:
            raise JudgerankError(f"{path}:{number}: expected two columns: instruction key, difficulty")
        out[row[0]] = _number(row[1], path, number, "difficulty")
    return out


def read_gamed(path: str | Path) -> tuple[list[Gamed], dict[str, float]]:
    """AlpacaEval's gamed-baseline rows and the instruction difficulty they carry."""
    path = Path(path)
    rows: list[Gamed] = []
    difficulty: dict[str, float] = {}
    header: list[str] = []
    for number, row in _csv_rows(path, keep_header=True):
        if not header:
            header = row
            missing = [c for c in ("index", "preference", "std_delta_len", "instruction_difficulty") if c not in header]
            if missing:
                raise JudgerankError(f"{path}: missing column(s) {', '.join(missing)}")
            continue
        cell = dict(zip(header, row))
        key = cell["index"]
        difficulty.setdefault(key, _number(cell["instruction_difficulty"], path, number, "instruction_difficulty"))
        rows.append(Gamed(key, _number(cell["preference"], path, number, "preference"),
                          _number(cell["std_delta_len"], path, number, "std_delta_len")))
    return rows, difficulty


def _csv_rows(path: Path, keep_header: bool = False):
    if not path.is_file():
        raise JudgerankError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for number, row in enumerate(csv.reader(fh), 1):
                if number == 1 and not keep_header:
                    continue
                if row:
                    yield number, row
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise JudgerankError(f"{path}: cannot read ({exc})") from exc


def _number(text: str, path: Path, number: int, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise JudgerankError(f"{path}:{number}: {name} {shown(text, 30)} is not a number") from None
    if not math.isfinite(value):
        raise JudgerankError(f"{path}:{number}: {name} is not a finite number")
    return value
