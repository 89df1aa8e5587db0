"""The one output rule of every command: tables (rich) on a terminal, JSON when stdout is a file
or a pipe, and --format table|json to choose. Progress, notes and costs go to stderr."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from judgerank.cli.app import out, stop_quietly_when_stdout_closes
from judgerank.core.errors import JudgerankError


def as_tables(fmt: str | None) -> bool:
    """Whether stdout gets tables: --format, else whether it is a terminal."""
    if fmt is None:
        return out.is_terminal
    if fmt not in ("table", "json"):
        raise JudgerankError(f"--format must be table or json, not {fmt!r}")
    return fmt == "table"


def emit(value: Any) -> None:
    """One JSON value on its own line of stdout, flushed (a pipe reads each as it comes)."""
    try:
        print(json.dumps(value), flush=True)
    except BrokenPipeError:
        stop_quietly_when_stdout_closes()


def table(title: str | None, columns: Sequence[str], *, left: Sequence[str] = (), caption: str | None = None,
          wide: str | None = None, spare: int = 40, wrap: Sequence[str] = ()) -> Table:
    """A table whose columns are right-aligned numbers but for `left` ones; `wide` (a text column)
    takes what the terminal has left after `spare` characters, cut with an ellipsis; `wrap` ones
    (left-aligned text) wrap whole."""
    t = Table(title=title, caption=caption, caption_justify="left")
    for col in columns:
        if col in wrap:
            t.add_column(col, justify="left")
        elif col == wide:
            t.add_column(col, overflow="ellipsis", no_wrap=True, max_width=max(16, out.width - spare))
        else:
            t.add_column(col, justify="left" if col in left else "right", no_wrap=True, min_width=len(col))
    return t


def number(x: float | None, spec: str = ".3f") -> str:
    """A figure for a table: '–' where there is none."""
    return "–" if x is None else format(x, spec)


def show_said(explanations: Sequence[dict[str, str | None]] | None) -> None:
    """What the judge said for each verdict in words (--explain): a table under the ranking."""
    if not explanations:
        return
    t = table("what the judge said", ("judgment", "verdict", "reasoning"), left=("judgment", "verdict"),
              wrap=("reasoning",))
    for said in explanations:
        t.add_row(said["about"] or "", said["verdict"] or "(unparsed)", said["reasoning"] or "")
    out.print(t)
