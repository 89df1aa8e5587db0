"""MkDocs hook: the methods page's table is made from the method registry at build time, so the
docs list exactly the methods `judgerank methods` lists (no copy to fall out of date)."""

from __future__ import annotations

from typing import Any

MARK = "<!-- the registry's methods -->"


def _table() -> str:
    from judgerank.strategies.registry import METHODS

    rows = ["| method | jobs | what it asks | its score | options |", "|---|---|---|---|---|"]
    for m in METHODS.values():
        options = ", ".join(f"`--{o.replace('_', '-')}`" for o in m.options) or "–"
        cells = [f"`{m.name}`", ", ".join(sorted(m.jobs)), m.summary, m.score, options]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return markdown.replace(MARK, _table()) if MARK in markdown else markdown
