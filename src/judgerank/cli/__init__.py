"""The `judgerank` command line: rerank, judge, arena, serve, plan.

Every failure is one line on stderr and a non-zero exit; set JUDGERANK_DEBUG=1 for a traceback.
Commands live one family a module (rerank, arena, judge, serve, plan) and register themselves on
the one typer app of app.py. What they share: options.py (options and what they make), tasks.py
(the task loop, output files that resume, progress and cost lines, Ray), show.py (tables on a
terminal, JSON otherwise).
"""

from __future__ import annotations

import importlib
import sys

from judgerank.cli import app as _app


def _commands() -> None:
    """Import the command families, in the order `judgerank --help` lists them (each registers
    its commands on the app)."""
    for family in ("rerank", "assess", "distil", "arena", "judge", "serve", "plan"):
        importlib.import_module(f"judgerank.cli.{family}")
    _app.tidy_help()


def main() -> None:
    """The command line; `judgerank --version` answers before any command is imported."""
    if sys.argv[1:] == ["--version"]:
        from judgerank import __version__

        print(f"judgerank {__version__}")
        return
    _commands()
    _app.main()


__all__ = ["main"]
