"""A self-contained HTML leaderboard report: the table and three plots as inline SVG.

Plots: ratings with their intervals, the predicted win-probability matrix, the battle counts.
Needs matplotlib (the `report` extra).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from judgerank.arena.ratings import Leaderboard
from judgerank.io.html import figure, figures, matrix_plot, pyplot, write_page


def _ratings_plot(board: Leaderboard, plt: Any) -> str:
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
    return figure(fig)


def write_report(board: Leaderboard, path: str | Path, source: str = "") -> None:
    """The leaderboard as one page: the table, the ratings with their intervals, the predicted
    win probabilities and the battle counts."""
    plt = pyplot()
    names = [r.player for r in board.rows]
    sections = [("ratings", _ratings_plot(board, plt))]
    if board.win_prob is not None:
        sections.append(("win-probability", matrix_plot(
            board.win_prob, names, "P(row beats column), predicted", ".2f", "RdBu_r", vmin=0.0, vmax=1.0)))
    if board.battle_counts is not None:
        sections.append(("battle-counts", matrix_plot(
            board.battle_counts, names, "battles between players", ".0f", "Greens")))
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
    write_page(path, "judgerank leaderboard", f"""<h1>Leaderboard: {html.escape(board.method)}</h1>
<p>{html.escape(source)} &middot; {len(board.rows)} players &middot; {settings} &middot; {board.seconds:.2f} s</p>
<ul class="notes">{notes}</ul>
<table id="leaderboard"><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>
{figures(sections)}""", extra_style="td:nth-child(2), th:nth-child(2) { text-align: left; } "
               "td:first-child, th:first-child { text-align: right; }")
