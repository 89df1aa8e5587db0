"""The report card of judges as one self-contained HTML page: the table and four plots as inline SVG.

Plots: accuracy against gold (2-way and 3-way) per judge, the reliability of P(A) (predicted
against observed, with the diagonal of perfect calibration), length bias (the share of decisive
verdicts for the longer response, beside the humans' share), and Cohen's kappa between judges.
Needs matplotlib (the `report` extra).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from judgerank.core.errors import JudgerankError
from judgerank.io.html import figure, figures, matrix_plot, pyplot, write_page
from judgerank.judge.report_card import Card


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "–" if x is None else format(x, spec)


def _accuracy_plot(cards: Sequence[Card], plt: Any) -> str:
    names = [c.name for c in cards]
    two = [c.agreement.accuracy_2way or 0.0 if c.agreement else 0.0 for c in cards]
    three = [c.agreement.accuracy_3way if c.agreement else 0.0 for c in cards]
    y = np.arange(len(cards))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(cards) + 1.2))
    ax.barh(y - 0.2, two, 0.4, label="2-way (decisive gold)", color="#1f5fa8")
    ax.barh(y + 0.2, three, 0.4, label="3-way (ties a class)", color="#9bbbe0")
    ax.set_yticks(y, names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(0.5, color="#999", lw=0.8, ls="--")
    ax.set_xlabel("accuracy against gold")
    ax.legend(fontsize=7, loc="lower right")
    return figure(fig)


def _reliability_plot(cards: Sequence[Card], plt: Any) -> str:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="#999", lw=0.8, ls="--", label="perfect calibration")
    for c in cards:
        if c.reliability:
            mean, observed, count = zip(*c.reliability)
            ax.plot(mean, observed, "o-", ms=3, lw=1, label=f"{c.name} (Brier {_fmt(c.brier)})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("P(A) predicted (bins of 0.1)")
    ax.set_ylabel("share of gold labels A (ties half)")
    ax.legend(fontsize=6)
    return figure(fig)


def _length_plot(cards: Sequence[Card], plt: Any) -> str:
    names = [c.name for c in cards]
    share = [c.longer_preferred if c.longer_preferred is not None else np.nan for c in cards]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(cards) + 1.2))
    ax.barh(np.arange(len(cards)), share, color="#c0504d")
    gold = next((c.gold_longer_preferred for c in cards if c.gold_longer_preferred is not None), None)
    if gold is not None:
        ax.axvline(gold, color="#222", lw=1.2, label=f"humans: {gold:.2f}")
        ax.legend(fontsize=7, loc="lower right")
    ax.set_yticks(np.arange(len(cards)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of decisive verdicts for the longer response")
    return figure(fig)


def write_judge_report(cards: Sequence[Card], kappas: tuple[list[str], np.ndarray] | None, path: str | Path,
                       source: str = "", notes: Sequence[str] = ()) -> None:
    """The cards as one page: the table, accuracy, reliability, length bias and the judges' kappas."""
    plt = pyplot()
    if not cards:
        raise JudgerankError("no judged pairs to report on")
    sections = [("accuracy", _accuracy_plot(cards, plt)), ("reliability", _reliability_plot(cards, plt)),
                ("length-bias", _length_plot(cards, plt))]
    if kappas is not None and len(kappas[0]) > 1:
        sections.append(("judge-agreement", matrix_plot(
            kappas[1], kappas[0], "Cohen's kappa between judges' verdicts", ".2f", "RdBu_r", vmin=-1.0, vmax=1.0)))
    head = ("<tr><th>judge</th><th>pairs</th><th>2-way acc</th><th>2-way κ</th><th>3-way acc</th><th>3-way κ</th>"
            "<th>position consistency</th><th>prefers longer</th><th>humans prefer longer</th><th>Brier</th>"
            "<th>calls / pair</th><th>tokens / pair</th><th>s / pair</th></tr>")
    body = []
    for c in cards:
        a = c.agreement
        cells = [str(c.pairs), _fmt(a.accuracy_2way if a else None), _fmt(a.kappa_2way if a else None),
                 _fmt(a.accuracy_3way if a else None), _fmt(a.kappa_3way if a else None),
                 _fmt(c.position_consistency), _fmt(c.longer_preferred), _fmt(c.gold_longer_preferred),
                 _fmt(c.brier), _fmt(c.calls_per_pair, ".2f"), _fmt(c.tokens_per_pair, ".0f"),
                 _fmt(c.seconds_per_pair, ".3f")]
        body.append(f"<tr><td>{html.escape(c.name)}</td>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    listed = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    write_page(path, "judgerank judge report card", f"""<h1>Judge report card</h1>
<p>{html.escape(source)} &middot; {cards[0].pairs} labelled pairs</p>
<ul class="notes">{listed}</ul>
<table id="cards"><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>
<p>2-way: pairs with a decisive gold label (a tie verdict counts wrong); 3-way: every pair, tie a class of its own,
with a tie region on P(A) cross-fitted on the labels. Brier: mean of (P(A) − gold)², gold A = 1, B = 0, tie = ½.
Cost: cache hits cost no calls.</p>
{figures(sections)}""")
