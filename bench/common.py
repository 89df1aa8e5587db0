"""Shared by the bench scripts: where the evaluation data lives, and a table printer."""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(os.environ.get("JUDGERANK_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")).resolve()
DL19 = DATA / "trec-dl19"


def require(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"missing {path}: benchmarks read ../shared/data (or set JUDGERANK_DATA)")
    return path


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))
