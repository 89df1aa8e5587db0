"""The assessor's report card as one HTML page: label agreement, the confusion matrix, and for
each measure each run under both qrels, as a table and as a scatter plot (a collection that
orders systems as people do puts them on a rising line). Needs matplotlib (the report extra)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from judgerank.assess.agreement import LabelAgreement, SystemAgreement
from judgerank.io.html import figure, figures, matrix_plot, pyplot, write_page


def write_assess_report(path: str | Path, labels: LabelAgreement, systems: Sequence[tuple[str, SystemAgreement]],
                        source: str) -> None:
    per_topic = [k for k in labels.per_topic_kappa.values() if k is not None]
    rows = [("passages both qrels grade", str(labels.shared)), ("Cohen's κ on the grades", f"{labels.kappa:.3f}"),
            (f"Cohen's κ on binary relevance (grade ≥ {labels.level})", f"{labels.kappa_binary:.3f}"),
            ("κ per topic: median", f"{float(np.median(per_topic)):.3f}" if per_topic else "–"),
            ("graded by the assessor only", str(labels.only_assessor)),
            ("graded by people only, in pooled topics", str(labels.only_people))]
    body = [f"<h1>Relevance assessor report card</h1><p>{html.escape(source)}</p>", _table(("figure", "value"), rows)]
    plots = [("confusion", matrix_plot(np.array(labels.confusion, dtype=float), [str(g) for g in labels.grades],
                                       "people's grade (rows) by the assessor's (columns)", ".0f", "Blues"))]
    for n, (holes, s) in enumerate(systems):
        how = "unjudged passages count as irrelevant" if holes == "count" else "runs condensed to judged passages"
        body.append(f"<h2>Systems by {html.escape(s.measure)} ({how}, {len(s.topics)} topics)</h2>"
                    f"<p>Kendall's τ {s.tau.value:.3f} [{s.tau.low:.3f}, {s.tau.high:.3f}], τ_AP {s.tau_ap.value:.3f} "
                    f"[{s.tau_ap.low:.3f}, {s.tau_ap.high:.3f}] (95% intervals over resampled topics)</p>")
        order = sorted(s.people, key=lambda r: -s.people[r])
        body.append(_table(("run", "assessor", "people", "judged@10, assessor", "judged@10, people"),
                           [(r, f"{s.assessor[r]:.4f}", f"{s.people[r]:.4f}", f"{s.judged_at_10[r][0]:.2f}",
                             f"{s.judged_at_10[r][1]:.2f}") for r in order]))
        plots.append((f"systems-{n}", _scatter(s, how)))
    write_page(path, "Relevance assessor report card", "\n".join(body) + figures(plots))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{cells}</table>"


def _scatter(s: SystemAgreement, how: str) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    names = list(s.people)
    x, y = [s.people[n] for n in names], [s.assessor[n] for n in names]
    ax.scatter(x, y)
    for name, a, b in zip(names, x, y):
        ax.annotate(name, (a, b), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"{s.measure}, people's qrels")
    ax.set_ylabel(f"{s.measure}, the assessor's qrels")
    ax.set_title(f"τ {s.tau.value:.2f}, τ_AP {s.tau_ap.value:.2f} ({how})", fontsize=8)
    return figure(fig)
