"""Writing rows of results (leaderboards, win rates) as a JSON list or a CSV table, by the name."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judgerank.core.errors import JudgerankError


def write_rows(path: str | Path, rows: Sequence[dict[str, Any]], document: Any = None) -> None:
    """The rows as CSV when the name ends in .csv, else as JSON (`document` instead of the rows,
    when given: a leaderboard with its settings and notes)."""
    path = Path(path)
    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            if path.suffix == ".csv":
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else [])
                writer.writeheader()
                writer.writerows(rows)
            else:
                json.dump(rows if document is None else document, fh, indent=1)
    except OSError as exc:
        raise JudgerankError(f"{path}: cannot write ({exc.strerror})") from exc
