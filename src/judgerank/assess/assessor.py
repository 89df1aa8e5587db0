"""The assess job's facade: graded relevance labels (qrels) for pooled passages, from an LLM.

Each passage is graded 0-3 (the TREC DL scale) with the assess-graded prompt, or a graded
--prompt of one's own, through the job's model and the judgment store, so an assessment is
cached, budgeted and resumable like every other job. The label keeps the grades' distribution
(from log-probabilities, or the vote shares of verdicts in words), its expected grade and the
grade written to the qrels: the most likely grade (what the assessor would say, UMBRELA's
label) or, with label="expected", the expected grade rounded.

Pooled passages are untrusted text: chat markers are made inert, and the guard flags a passage
that addresses the assessor; with guard="zero" a flagged passage is labelled 0 without a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

import numpy as np

from judgerank.backends.base import Backend
from judgerank.core.costs import Budget, Costs
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Doc, Query, Request, as_items, as_query, check_request
from judgerank.guard import detect_items
from judgerank.judges.templates import load_template
from judgerank.runtime import Runtime, RuntimeUser
from judgerank.store import StoreSpec
from judgerank.strategies.registry import HearingOptions, Options

TEMPLATE = "assess-graded"
LABEL_RULES = ("likely", "expected")
ASSESS_GUARDS = ("flag", "zero", "off")


class AssessOptions(HearingOptions, total=False):
    """An Assessor's options as keyword arguments: label (likely or expected: which grade the
    qrels get), guard (flag, zero or off), max_words (words read of each passage), and how the
    judge is heard, as the method options of those names (verdicts, samples, temperature,
    reasoning, think_tokens, explain, prompt: a graded template of one's own)."""

    label: str
    guard: str
    max_words: int


@dataclass(frozen=True)
class Label:
    """One passage's assessment: the grade for the qrels (None: not graded, a hole: the budget
    stopped it or its verdict in words was unreadable), the expected grade, each grade's
    probability, and the guard's flags."""

    docid: str
    grade: int | None
    expected: float | None = None
    probabilities: tuple[float, ...] | None = None
    flags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The label as JSON-ready data."""
        out: dict[str, Any] = {"docid": self.docid, "grade": self.grade, "expected": self.expected,
                               "probabilities": list(self.probabilities) if self.probabilities else None}
        return out | ({"flags": list(self.flags)} if self.flags else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Label:
        """The label that as_dict wrote."""
        probabilities = data.get("probabilities")
        return cls(str(data["docid"]), data.get("grade"), data.get("expected"),
                   tuple(probabilities) if probabilities else None, tuple(data.get("flags", ())))


@dataclass
class Assessment:
    """One topic's labels, what they cost, and whether the budget let every passage be graded."""

    query_id: str
    labels: list[Label]
    grades: tuple[int, ...]
    costs: Costs = field(default_factory=Costs)
    complete: bool = True

    def qrels_lines(self) -> list[str]:
        """TREC qrels lines (qid 0 docid grade) of the graded passages; a hole is left out."""
        return [f"{self.query_id} 0 {label.docid} {label.grade}" for label in self.labels if label.grade is not None]

    def as_dict(self) -> dict[str, Any]:
        """The assessment as JSON-ready data (a line of `assess --out NAME.jsonl`)."""
        return {"query_id": self.query_id, "method": "assess", "grades": list(self.grades),
                "labels": [label.as_dict() for label in self.labels], "costs": self.costs.as_dict(),
                "complete": self.complete}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Assessment:
        """The assessment that as_dict wrote."""
        return cls(str(data["query_id"]), [Label.from_dict(d) for d in data["labels"]], tuple(data["grades"]),
                   Costs(**data.get("costs", {})), bool(data.get("complete", True)))


class Assessor(RuntimeUser):
    """Grades pooled passages for relevance with one model (judgerank assess).

    model, store, runtime, budget, base_url and backend as the Reranker takes them; options as
    AssessOptions. A budget applies to each `assess` call (one topic).

    >>> with Assessor() as assessor:                                    # doctest: +SKIP
    ...     assessment = assessor.assess("life cycle of a flea", ["fleas live 2-3 months", "paris"])
    """

    def __init__(self, model: str | None = None, *, store: StoreSpec = "default", runtime: Runtime | None = None,
                 budget: Budget | None = None, base_url: str | None = None, backend: Backend | None = None,
                 **options: Unpack[AssessOptions]) -> None:
        self.model = model
        self.budget = budget or Budget()
        self.label = str(options.pop("label", "likely"))
        self.guard = str(options.pop("guard", "flag"))
        self.max_words = int(options.pop("max_words", 200))
        if self.label not in LABEL_RULES:
            raise JudgerankError(f"label {self.label!r}: use {' or '.join(LABEL_RULES)}")
        if self.guard not in ASSESS_GUARDS:
            raise JudgerankError(f"guard {self.guard!r}: use {', '.join(ASSESS_GUARDS)}")
        if self.max_words < 1:
            raise JudgerankError(f"max_words {self.max_words}: read at least one word of each passage")
        self.options = Options.of(dict(options))
        prompt, _ = self.options.templates()
        if prompt is not None and prompt.kind != "graded":
            raise JudgerankError(f"--prompt: a {prompt.kind} template; an assessor reads a graded one (kind = "
                                 "\"graded\", its choices the grades)")
        self.template = prompt or load_template(TEMPLATE)
        self.costs = Costs()
        runtime = self._use_runtime(runtime, store, base_url, {model: backend} if backend is not None else None)
        runtime.check(model, frozenset({"choices"}))

    @property
    def grades(self) -> tuple[int, ...]:
        """The grades the template reads, lowest first."""
        return tuple(int(round(g)) for g in self.template.levels)

    def assess(self, query: str | Query, docs: Sequence[Doc], *, budget: Budget | None = None) -> Assessment:
        """Labels for each of `docs` (strings, Items or {id?, text} dicts) for the query, in their order."""
        q, items = as_query(query), as_items(docs)
        check_request(Request(q, items))  # candidates, unique ids, valid Unicode
        o = self.options
        flags = detect_items(q, items) if self.guard != "off" else {}
        asked = [i for i in items if not (self.guard == "zero" and i.id in flags)]
        job = self.runtime.job("rerank", self.model, budget or self.budget, neutralise=self.guard != "off",
                               asking=o.asking, explain=o.explain)
        judge = job.grader(self.template, self.max_words)
        answers = judge.distributions(q, asked) if asked else None
        got = dict(zip((i.id for i in asked), answers.values)) if answers is not None else {}
        levels = self.template.levels
        labels = []
        for item in items:
            marks = tuple(flags.get(item.id, ()))
            if item.id not in got:  # flagged, and guard "zero"
                labels.append(Label(item.id, int(levels.min()), None, None, marks))
                continue
            p = got[item.id]
            if p is None:
                labels.append(Label(item.id, None, None, None, marks))
                continue
            expected = float(p @ levels)
            grade = levels[int(np.argmax(p))] if self.label == "likely" else levels[np.abs(levels - expected).argmin()]
            labels.append(Label(item.id, int(round(grade)), round(expected, 6),
                                tuple(round(float(x), 6) for x in p), marks))
        assessment = Assessment(q.id, labels, self.grades, job.close(), answers is None or answers.complete)
        self.costs.add(assessment.costs)
        return assessment
