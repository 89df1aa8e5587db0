"""Self-contained HTML pages with plots as inline SVG: what the arena's and the judges' reports share.

Needs matplotlib (the `report` extra), imported when a page is drawn.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

import numpy as np

from judgerank.core.errors import JudgerankError, needs_extra

STYLE = """body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
td, th { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 2em 0; } figure svg { max-width: 100%; height: auto; }"""


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or the one-line error naming the extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise needs_extra("the HTML report", "report") from None
    return plt


def svg_of(fig: Any) -> str:
    """A matplotlib figure as inline SVG."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg") :]


def matrix_plot(matrix: np.ndarray, names: list[str], title: str, fmt: str, cmap: str, **limits: float) -> str:
    """A square matrix between named players or judges as a heat map (values written in when small)."""
    plt = pyplot()
    n = len(names)
    fig, ax = plt.subplots(figsize=(max(5, 0.22 * n + 2), max(4, 0.22 * n + 1)))
    image = ax.imshow(matrix, cmap=cmap, **limits)
    ax.set_xticks(range(n), names, rotation=90, fontsize=6)
    ax.set_yticks(range(n), names, fontsize=6)
    if n <= 16:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, format(matrix[i, j], fmt), ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, shrink=0.7)
    ax.set_title(title)
    return figure(fig)


def figure(fig: Any) -> str:
    """The figure as SVG, and the figure closed."""
    svg = svg_of(fig)
    pyplot().close(fig)
    return svg


def write_page(path: str | Path, title: str, body: str, *, extra_style: str = "") -> None:
    """A complete HTML page (title, the shared style, `body` as given) written to path."""
    page = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            f"<style>\n{STYLE}\n{extra_style}\n</style></head><body>\n{body}\n</body></html>\n")
    try:
        Path(path).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise JudgerankError(f"{path}: cannot write ({exc.strerror})") from exc


def figures(sections: list[tuple[str, str]]) -> str:
    """<figure> elements for (id, svg) pairs."""
    return "".join(f'<figure id="{fid}">{svg}</figure>' for fid, svg in sections)
