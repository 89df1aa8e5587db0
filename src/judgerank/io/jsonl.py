"""JSON-lines parsing with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from judgerank.errors import JudgerankError


def loads(text: str, source: object, number: int | None = None) -> Any:
    """json.loads, with every way it can refuse a document (malformed JSON, an integer over
    Python's 4,300-digit limit, nesting deeper than the recursion limit) one JudgerankError
    naming the file and line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = number if number is not None else exc.lineno
        raise JudgerankError(f"{source}:{where}: malformed JSON ({exc.msg})") from None
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


def parse_jsonl(lines: Iterable[str], source: object) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; anything but a JSON object is an error."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = loads(line, source, number)
        if not isinstance(record, dict):
            raise JudgerankError(f"{source}:{number}: expected a JSON object")
        yield number, record
