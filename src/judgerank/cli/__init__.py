"""The `judgerank` command line: rerank, judge, arena, serve, plan.

Every failure is one line on stderr and a non-zero exit; set JUDGERANK_DEBUG=1 for a traceback.
Commands live one family a module (rerank, arena, judge, serve, plan) and register themselves on
the one typer app in base, which also holds what they share.
"""

from __future__ import annotations

import importlib

from judgerank.cli.base import app, main

# imported for their commands, in the order `judgerank --help` lists them
for _family in ("rerank", "arena", "judge", "serve", "plan"):
    importlib.import_module(f"judgerank.cli.{_family}")

__all__ = ["app", "main"]
