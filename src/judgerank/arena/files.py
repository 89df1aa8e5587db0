"""Reading the arena's files: battle records, and judged instructions for win rates.

Battles: CSV or JSONL (optionally gzipped) with model_a, model_b, winner.

Winner labels: model_a / a, model_b / b, tie / draw, both_bad. both_bad counts as a tie unless
both_bad="ignore" drops it. An unknown label or a missing column is an error naming the line.
An optional `weight` column says how many battles a row counts for (default 1).

For style control a battle also carries covariates: numeric columns the user names (`features`),
or the style of the two responses (`style`), computed from response_a / response_b texts or from
LMArena's conversation_a / conversation_b turn lists. They come back standardised, one row per
battle, in `BattleFile.rows`.

Judged instructions (`read_judged`), JSON list or JSONL, in two layouts:
- AlpacaEval annotations: generator_1 (the baseline), generator_2, output_1, output_2,
  preference (1 = baseline preferred ... 2 = model preferred, fractional for weighted judges;
  0 or 1.5 a draw; null is left out), instruction, index (optional; the key of the
  instruction's difficulty when present).
- Battles with texts, as arena logs write them: model_a, model_b, winner (model_a / model_b /
  tie) or p_a, response_a, response_b, and prompt_id or instruction. Rows without the baseline
  on one side are left out (counted).
Plus the two optional AlpacaEval tables: instruction difficulty (CSV: key, difficulty) and
gamed-baseline rows (AlpacaEval's df_gamed.csv: index, preference in [0, 1], std_delta_len,
instruction_difficulty).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from judgerank.aggregate.battles import Battles
from judgerank.aggregate.contextual import BattleRows
from judgerank.arena.style import STYLE_FEATURES, standardise, style_differences
from judgerank.arena.winrate import Gamed, Judged
from judgerank.core.errors import JudgerankError, shown
from judgerank.core.types import OUTCOMES
from judgerank.io.files import csv_rows, reading
from judgerank.io.jsonl import loads, parse_jsonl, read_records

BothBad = Literal["tie", "ignore"]
BOTH_BAD = {"both_bad", "tie (bothbad)"}


@dataclass(frozen=True)
class BattleFile:
    battles: Battles
    rows: int  # records read, before anything was dropped
    self_battles: int
    dropped_both_bad: int
    rows_with_covariates: BattleRows | None = None  # one row per battle, covariates standardised
    notes: tuple[str, ...] = ()


def _records(path: Path, columns: tuple[str, str, str]) -> Iterator[tuple[int, dict]]:
    stem = path.name.removesuffix(".gz")
    with reading(path) as fh:
        if stem.endswith((".jsonl", ".json")):
            yield from parse_jsonl(fh, path)
            return
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise JudgerankError(f"{path}: the file is empty: a CSV of battles has a header row naming "
                                 f"{', '.join(columns)}")
        missing = [c for c in columns if c not in reader.fieldnames]
        if missing:
            raise JudgerankError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(reader.fieldnames)}")
        yield from enumerate(reader, 2)


def read_battles(
    path: str | Path,
    both_bad: BothBad = "tie",
    columns: tuple[str, str, str] = ("model_a", "model_b", "winner"),
    features: tuple[str, ...] = (),
    style: bool = False,
) -> BattleFile:
    """Battles of a file; with `features` or `style`, also each battle's covariates."""
    path = Path(path)
    col_a, col_b, col_w = columns
    rows: list[tuple[str, str, float]] = []
    weights: list[float] = []
    covariates = _Covariates(path, features, style)
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
        weights.append(_weight(record, path, number))
        covariates.add(number, record)
    if not rows:
        raise JudgerankError(f"{path}: no battles between two different players")
    battles = Battles.from_outcomes(rows, weights)
    table, notes = covariates.rows(battles.players, rows, weights)
    return BattleFile(battles, read, self_battles, dropped, table, notes)


def _weight(record: dict, path: Path, number: int) -> float:
    """An optional `weight` column: how many battles the row counts for (a five-level judge's
    strong verdict counts 3)."""
    raw = record.get("weight")
    if raw in (None, ""):
        return 1.0
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):  # an integer of hundreds of digits overflows
        raise JudgerankError(f"{path}:{number}: weight {shown(raw, 30)} is not a number") from None
    if not (value > 0 and value < float("inf")):
        raise JudgerankError(f"{path}:{number}: weight must be a positive number, not {value}")
    return value


class _Covariates:
    """Collects each kept battle's covariates while the file is read."""

    def __init__(self, path: Path, features: tuple[str, ...], style: bool) -> None:
        self.path, self.features, self.style = path, features, style
        self.values: list[list[float]] = []
        self.texts: list[tuple[str, str]] = []

    def add(self, number: int, record: dict) -> None:
        if self.features:
            row = []
            for name in self.features:
                if name not in record:
                    raise JudgerankError(f"{self.path}:{number}: missing feature {name!r}")
                try:
                    row.append(float(record[name]))
                except (TypeError, ValueError, OverflowError):  # an integer of hundreds of digits overflows
                    raise JudgerankError(
                        f"{self.path}:{number}: feature {name!r} is {shown(record[name], 30)}, not a number"
                    ) from None
            self.values.append(row)
        if self.style:
            self.texts.append((_response(record, "a", self.path, number), _response(record, "b", self.path, number)))

    def rows(
        self, players: list[str], battles: list[tuple[str, str, float]], weights: list[float]
    ) -> tuple[BattleRows | None, tuple[str, ...]]:
        if not (self.features or self.style):
            return None, ()
        names: list[str] = list(self.features)
        parts = [np.array(self.values, dtype=float).reshape(len(battles), len(self.features))]
        notes: list[str] = []
        if self.style:
            diff = style_differences([t[0] for t in self.texts], [t[1] for t in self.texts])
            varied = diff.std(axis=0) > 0
            skipped = [n for n, keep in zip(STYLE_FEATURES, varied) if not keep]
            if skipped:
                notes.append(f"style feature(s) {', '.join(skipped)} left out: the same in every battle")
            parts.append(diff[:, varied])
            names += [f"style_{n}" for n, keep in zip(STYLE_FEATURES, varied) if keep]
        x = standardise(np.hstack(parts), names, str(self.path))
        index = {p: i for i, p in enumerate(players)}
        a = np.array([index[r[0]] for r in battles], dtype=np.int64)
        b = np.array([index[r[1]] for r in battles], dtype=np.int64)
        outcome = np.array([r[2] for r in battles], dtype=float)
        count = np.asarray(weights, dtype=float)
        return BattleRows(players, a, b, outcome, x, count, np.ones(len(battles)), tuple(names)), tuple(notes)


def _response(record: dict, side: str, path: Path, number: int) -> str:
    """The text of one side's response: response_a, or the assistant turns of conversation_a."""
    if isinstance(record.get(f"response_{side}"), str):
        return record[f"response_{side}"]
    turns = record.get(f"conversation_{side}")
    if isinstance(turns, str):  # a CSV cell holding the JSON list
        turns = loads(turns, path, number)
    if isinstance(turns, list):
        return "\n".join(
            str(t.get("content", "")) for t in turns if isinstance(t, dict) and t.get("role") == "assistant"
        )
    raise JudgerankError(
        f"{path}:{number}: --style needs the two responses: response_a and response_b texts, or "
        "conversation_a and conversation_b turn lists"
    )


def as_battles(data: object) -> Battles:
    """Battles from what users hold: Battles, a battles file path, or a list of records
    {model_a, model_b, winner} or tuples (a, b, outcome) with outcome 1, 0 or 0.5 (or a winner
    label). Self-battles are left out; both_bad counts as a tie. A TypeError for anything else."""
    if isinstance(data, Battles):
        return data
    if isinstance(data, (str, Path)):
        return read_battles(data).battles
    if not isinstance(data, Iterable):
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


@dataclass(frozen=True)
class JudgedFile:
    rows: list[Judged]
    read: int
    without_baseline: int  # battles between two other models, left out
    undecided: int  # null preferences, left out


def read_judged(path: str | Path, baseline: str) -> JudgedFile:
    """The instructions of a file judged between `baseline` and another model (see the module's
    docstring), and what was left out."""
    path = Path(path)
    records = read_records(path)
    rows: list[Judged] = []
    skipped = undecided = 0
    seen: set[str] = set()
    for number, record in records:
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
    except (TypeError, ValueError, OverflowError):  # an integer of hundreds of digits overflows
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
        except (TypeError, ValueError, OverflowError):  # an integer of hundreds of digits overflows
            raise JudgerankError(f"{path}:{number}: p_a {shown(record['p_a'], 30)} is not a number") from None
        if not 0.0 <= p_a <= 1.0:
            raise JudgerankError(f"{path}:{number}: p_a {p_a} is not a probability")
    else:
        label = str(_field(record, "winner", path, number)).strip().lower()
        if label not in OUTCOMES:
            raise JudgerankError(f"{path}:{number}: unknown winner label {shown(label, 30)} (use model_a, model_b or tie)")
        p_a = OUTCOMES[label]
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
    for number, row in csv_rows(path, with_header=False):
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
    for number, row in csv_rows(path):
        if not header:
            header = row
            missing = [c for c in ("index", "preference", "std_delta_len", "instruction_difficulty") if c not in header]
            if missing:
                raise JudgerankError(f"{path}: missing column(s) {', '.join(missing)}")
            continue
        if len(row) < len(header):
            raise JudgerankError(f"{path}:{number}: {len(row)} cells for the header's {len(header)} columns")
        cell = dict(zip(header, row))
        key = cell["index"]
        difficulty.setdefault(key, _number(cell["instruction_difficulty"], path, number, "instruction_difficulty"))
        rows.append(Gamed(key, _number(cell["preference"], path, number, "preference"),
                          _number(cell["std_delta_len"], path, number, "std_delta_len")))
    return rows, difficulty


def _number(text: str, path: Path, number: int, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise JudgerankError(f"{path}:{number}: {name} {shown(text, 30)} is not a number") from None
    if not math.isfinite(value):
        raise JudgerankError(f"{path}:{number}: {name} is not a finite number")
    return value
