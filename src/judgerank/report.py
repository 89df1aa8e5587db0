"""A self-contained HTML leaderboard report: the table and three plots as inline SVG.

Plots: ratings with their intervals, the predicted win-probability matrix, the battle counts.
Needs matplotlib (the `report` extra).
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np

from judgerank.arena import Leaderboard
from judgerank.errors import JudgerankError


def svg_of(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _ratings_plot(board: Leaderboard, plt) -> str:
    rows = board.rows
    names = [r.player for r in rows][::-1]
    ratings = np.array([r.rating for r in rows])[::-1]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.22 * len(rows))))
    if rows[0].lower is not None:
        lo = ratings - np.array([r.lower for r in rows])[::-1]
        hi = np.array([r.upper for r in rows])[::-1] - ratings
        ax.errorbar(ratings, range(len(rows)), xerr=[lo, hi], fmt="o", ms=3, capsize=2, color="#1f5fa8")
    else:
        ax.plot(ratings, range(len(rows)), "o", ms=3, color="#1f5fa8")
    ax.set_yticks(range(len(rows)), names, fontsize=7)
    ax.set_xlabel("rating" + (" (95% interval)" if rows[0].lower is not None else ""))
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"{board.method} ratings")
    svg = svg_of(fig)
    plt.close(fig)
    return svg


def matrix_plot(matrix: np.ndarray, names: list[str], title: str, fmt: str, plt, cmap: str, **limits) -> str:
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
    svg = svg_of(fig)
    plt.close(fig)
    return svg


def write_report(board: Leaderboard, path: str | Path, source: str = "") -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise JudgerankError("the HTML report needs matplotlib: pip install 'judgerank[report]'") from None
    names = [r.player for r in board.rows]
    figures = [("ratings", _ratings_plot(board, plt))]
    if board.win_prob is not None:
        figures.append(("win-probability", matrix_plot(
            board.win_prob, names, "P(row beats column), predicted", ".2f", plt, "RdBu_r", vmin=0.0, vmax=1.0)))
    if board.battle_counts is not None:
        figures.append(("battle-counts", matrix_plot(
            board.battle_counts, names, "battles between players", ".0f", plt, "Greens")))
    has_ci = board.rows and board.rows[0].lower is not None
    head = "<tr><th>rank</th><th>player</th><th>rating</th>" + ("<th>95% interval</th>" if has_ci else "") + \
        "<th>battles</th><th>win rate</th></tr>"
    body = []
    for r in board.rows:
        ci = f"<td>{r.lower:.1f} – {r.upper:.1f}</td>" if has_ci else ""
        rate = "–" if r.win_rate is None else f"{r.win_rate:.3f}"
        body.append(f"<tr><td>{r.rank}</td><td>{html.escape(r.player)}</td><td>{r.rating:.2f}</td>{ci}"
                    f"<td>{r.battles}</td><td>{rate}</td></tr>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in board.notes)
    settings = html.escape(", ".join(f"{k}={v}" for k, v in board.settings.items()))
    sections = "".join(f'<figure id="{fid}">{svg}</figure>' for fid, svg in figures)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>judgerank leaderboard</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 14px; }}
td, th {{ padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
td:nth-child(2), th:nth-child(2) {{ text-align: left; }}
figure {{ margin: 2em 0; }} figure svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>Leaderboard: {html.escape(board.method)}</h1>
<p>{html.escape(source)} &middot; {len(board.rows)} players &middot; {settings} &middot; {board.seconds:.2f} s</p>
<ul class="notes">{notes}</ul>
<table id="leaderboard"><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>
{sections}
</body></html>
"""
    Path(path).write_text(page, encoding="utf-8")
