"""JSON-lines parsing with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from judgerank.errors import JudgerankError


def parse_jsonl(lines: Iterable[str], source: object) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; anything but a JSON object is an error."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise JudgerankError(f"{source}:{number}: malformed JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise JudgerankError(f"{source}:{number}: expected a JSON object")
        yield number, record
