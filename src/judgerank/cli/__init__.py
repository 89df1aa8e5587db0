"""The `judgerank` command line: rerank, judge, arena, serve, plan.

Every failure is one line on stderr and a non-zero exit; set JUDGERANK_DEBUG=1 for a traceback.
Commands live one family a module (rerank, arena, judge, serve, plan) and register themselves on
the one typer app of app.py. What they share: options.py (options and what they make), tasks.py
(the task loop, output files that resume, progress and cost lines, Ray), show.py (tables on a
terminal, JSON otherwise).
"""

from __future__ import annotations

import importlib

from judgerank.cli.app import app, main

# imported for their commands, in the order `judgerank --help` lists them
for _family in ("rerank", "arena", "judge", "serve", "plan"):
    importlib.import_module(f"judgerank.cli.{_family}")

__all__ = ["app", "main"]
