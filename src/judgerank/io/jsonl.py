"""JSON and JSON-lines records with errors that name the file and line, and the candidate records
(passages, responses) every job's files share: {"id", "text", "score"?} or a plain string."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from judgerank.core.errors import JudgerankError, shown
from judgerank.core.types import Item
from judgerank.io.files import read_text


def loads(text: str, source: object, number: int | None = None) -> Any:
    """json.loads, with every way it can refuse a document (malformed JSON, an integer over
    Python's 4,300-digit limit, nesting deeper than the recursion limit) one JudgerankError
    naming the file and line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = number if number is not None else exc.lineno
        # exc.msg ends where json's own message names the place ("... starting at"): say the column
        raise JudgerankError(f"{source}:{where}: malformed JSON ({exc.msg.removesuffix(' at')} at column "
                             f"{exc.colno})") from None
    except ValueError as exc:  # int() of a number over sys.get_int_max_str_digits() digits
        raise JudgerankError(f"{source}:{number or 1}: malformed JSON ({str(exc).split(';')[0]})") from None
    except RecursionError:
        raise JudgerankError(f"{source}:{number or 1}: JSON nested too deeply to read") from None
    # JSON may spell a lone surrogate ("\ud800"): valid JSON, not valid text, and fatal later
    # (tokenizer, store); looked for only when the document has such an escape at all
    if ("\\ud" in text or "\\uD" in text) and lone_surrogate(value):
        raise JudgerankError(f"{source}:{number or 1}: text holds a lone surrogate (an unpaired \\ud800-\\udfff "
                             "escape): not valid Unicode; fix or remove that escape")
    return value


def lone_surrogate(value: Any) -> bool:
    """Whether any string in a parsed JSON value (keys included) holds a lone surrogate."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def nesting_depth(value: Any) -> int:
    """How deep lists and objects nest in a parsed JSON value (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict | list):
            deepest = max(deepest, depth + 1)
            stack.extend((x, depth + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def parse_jsonl(lines: Iterable[str], source: object) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; anything but a JSON object is an error."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = loads(line, source, number)
        if not isinstance(record, dict):
            raise JudgerankError(f"{source}:{number}: expected a JSON object")
        yield number, record


def read_records(path: str | Path) -> list[tuple[int, dict]]:
    """(number, object) of each record of a JSON list (number: its position) or of a JSONL file
    (number: its line); anything but objects is an error naming the record."""
    text = read_text(path)
    if not text.lstrip().startswith("["):
        return list(parse_jsonl(text.splitlines(), path))
    data = loads(text, path)
    if not isinstance(data, list):
        raise JudgerankError(f"{path}: expected a JSON list of records")
    for n, record in enumerate(data, 1):
        if not isinstance(record, dict):
            raise JudgerankError(f"{path}: record {n}: expected a JSON object")
    return list(enumerate(data, 1))


def item_of(record: object, where: str, default_id: str) -> Item:
    """A candidate from a string (its id `default_id`) or an object with a text ("text",
    "content" or "contents"), an optional id ("id" or "docid") and an optional first-stage
    "score" (a finite number)."""
    if isinstance(record, str):
        return Item(default_id, record)
    if not isinstance(record, dict):
        raise JudgerankError(f"{where}: a candidate must be an object with 'id' and 'text'")
    text = record.get("text", record.get("content", record.get("contents")))
    if not isinstance(text, str):
        raise JudgerankError(f"{where}: candidate has no 'text' string")
    raw_id = record.get("id", record.get("docid", default_id))
    return Item(str(raw_id), text, _score(record.get("score"), f"{where}: candidate {shown(str(raw_id), 40)}"))


def _score(value: object, where: str) -> float | None:
    """A first-stage score: absent, or a finite number."""
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        score = float(value)  # an integer of hundreds of digits overflows here
    except (TypeError, OverflowError):
        score = math.nan
    if not math.isfinite(score):
        raise JudgerankError(f"{where}: 'score' must be a finite number, not {shown(value, 30)}")
    return score
