"""`judgerank assess` and `judgerank assess-eval`: LLM relevance labels for a pool of runs, and
how far they agree with people's qrels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from judgerank.assess import Assessment, Assessor, pool, pool_requests, read_runs
from judgerank.cli.app import app, err, out
from judgerank.cli.options import (
    BaseUrlOpt,
    ContextOpt,
    CpusOpt,
    FormatOpt,
    ModelOpt,
    NoStoreOpt,
    OrderedOpt,
    RayOpt,
    StoreOpt,
    ThreadsOpt,
    WorkersOpt,
    budget,
    check_writable,
    make_runtime,
    method_options,
    with_hearing_options,
)
from judgerank.cli.show import as_tables, emit, table
from judgerank.cli.tasks import FlagTally, Output, id_of_json, job_spec, join_cluster, on_ray, run_tasks
from judgerank.core.costs import Costs
from judgerank.core.errors import JudgerankError
from judgerank.io.trec import read_qrels
from judgerank.rerank.files import read_requests

if TYPE_CHECKING:  # scipy.stats and the report's plotting load only when assess-eval runs
    from judgerank.assess.agreement import LabelAgreement, SystemAgreement

RunsArg = Annotated[list[Path] | None, typer.Argument(help="TREC runs to pool (each query's top --depth by score).",
                                                      show_default=False, metavar="RUN...")]


def _id_of_qrels(line: str) -> tuple[str, str]:
    """(topic, "assess") of a qrels line this command wrote."""
    parts = line.split()
    if len(parts) != 4:
        raise ValueError("not a qrels line")
    return parts[0], "assess"


@app.command()
@with_hearing_options
def assess(
    runs: RunsArg = None,
    topics: Annotated[Path | None, typer.Option(help="The runs' queries: BEIR queries.jsonl, JSON lines {query_id, "
                                                     "query}, a TREC topics file or a qid<TAB>query TSV.")] = None,
    corpus: Annotated[Path | None, typer.Option(help="The passages: BEIR corpus.jsonl, JSON lines {id, contents} or "
                                                     "a docid<TAB>text TSV (.gz ok); only pooled ones are kept.")] = None,
    input: Annotated[Path | None, typer.Option("--input", "-i", help="Instead of runs: JSONL requests {query_id, "
                                               "query, candidates} whose every candidate is assessed.")] = None,
    depth: Annotated[int, typer.Option(help="Pool each run's top N passages per topic.", min=1)] = 10,
    out_path: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the labels: .jsonl as JSON lines with each grade's probability (and a TREC qrels "
        "file beside it, NAME.qrels), else a TREC qrels file. Default: the qrels on stdout.")] = None,
    label: Annotated[str, typer.Option(help="The grade the qrels get: likely (the most likely grade) or expected "
                                            "(the expected grade, rounded).")] = "likely",
    guard: Annotated[str, typer.Option(help="A passage that addresses the assessor: flag (labelled as judged, "
                                            "reported), zero (labelled 0 without a call) or off.")] = "flag",
    model: ModelOpt = None, max_calls: Annotated[int | None, typer.Option(help="Budget: new LLM calls per topic; a "
                                                                         "passage left ungraded is a hole.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Budget: tokens per topic.")] = None,
    limit: Annotated[int | None, typer.Option(help="Assess only the first N topics.", min=1)] = None,
    base_url: BaseUrlOpt = None, store: StoreOpt = None, no_store: NoStoreOpt = False, threads: ThreadsOpt = None,
    context: ContextOpt = None, format: FormatOpt = None,
    ray: RayOpt = None, workers: WorkersOpt = None, cpus_per_worker: CpusOpt = 1.0, ordered: OrderedOpt = False,
    **hearing: Any,
) -> None:
    """Grade the pooled passages of runs 0-3 for relevance with an LLM (TREC DL's scale): LLM qrels.

    Pools the top --depth passages of every run per topic (deduplicated) and grades each with the
    assess-graded prompt (or a graded --prompt of your own). With --out, an interrupted run leaves
    NAME.partial; the same command resumes it, each finished judgment from the store."""
    if runs and input is not None:
        raise JudgerankError("give runs (with --topics and --corpus) or --input, not both")
    if input is not None:
        requests = read_requests(input)[:limit]
    elif runs:
        if topics is None or corpus is None:
            lacking = " and ".join(f for f, v in (("--topics", topics), ("--corpus", corpus)) if v is None)
            raise JudgerankError(f"assessing a pool of runs needs --topics and --corpus: add {lacking}")
        pooled = dict(list(pool(list(read_runs(runs).values()), depth).items())[:limit])
        requests = pool_requests(pooled, topics, corpus)
    else:
        raise JudgerankError("nothing to assess: give TREC runs with --topics and --corpus, or --input")
    check_writable(out_path)
    jsonl = out_path is not None and out_path.suffix == ".jsonl"
    qrels_path = out_path.with_suffix(".qrels") if jsonl and out_path is not None else out_path
    options = {"label": label, "guard": guard, **method_options(hearing)}
    runtime = make_runtime(store, no_store, base_url, threads, context)
    assessor = Assessor(model, runtime=runtime, budget=budget(max_calls, max_tokens), **options)
    cluster = join_cluster(ray, workers, cpus_per_worker, ordered) if ray is not None else None
    settings = {"command": "assess", "model": model, "base_url": base_url, "options": options, "depth": depth,
                "runs": [str(r) for r in runs or []], "input": str(input) if input else None,
                "topics": str(topics) if topics else None, "corpus": str(corpus) if corpus else None}
    sink = Output(out_path, resume=id_of_json if jsonl else _id_of_qrels, method="assess", settings=settings)
    todo = [r for r in requests if r.query.id not in sink.done]
    writer = _Writer(sink, jsonl, out_path is None, as_tables(format), guard)
    if cluster is not None:
        spec = job_spec("assess", "assess", model, base_url, runtime, threads, cpus_per_worker, max_calls, max_tokens,
                        options, context)
        on_ray(todo, spec, cluster, ("topic", "topics"), sink, out_path,
               lambda n, r: writer(n, Assessment.from_dict(r)))
    else:
        results = ((n, assessor.assess(r.query, r.items)) for n, r in enumerate(todo))
        run_tasks(results, len(todo), writer, label="assessing", unit=("topic", "topics"), sink=sink, runtime=runtime)
    writer.report()
    if jsonl and out_path is not None and qrels_path is not None:
        lines = [line for text in out_path.read_text(encoding="utf-8").splitlines() if text.strip()
                 for line in Assessment.from_dict(json.loads(text)).qrels_lines()]
        qrels_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        err.print(f"wrote {qrels_path}")
    if len(todo) < len(requests):
        err.print(f"{len(requests) - len(todo)} topics resumed from {out_path}")


class _Writer:
    """Each topic's labels as they finish: to --out (JSON lines or qrels) or stdout, and the
    run's tallies (grades, holes, the guard's flags)."""

    def __init__(self, sink: Output, jsonl: bool, stdout: bool, tables: bool, guard: str) -> None:
        self.sink, self.jsonl, self.stdout, self.tables = sink, jsonl, stdout, tables
        self.counts: dict[str, int] = {}
        self.tally = FlagTally(guard)

    def __call__(self, n: int, assessment: Assessment) -> tuple[Costs, bool]:
        for label in assessment.labels:
            key = "hole" if label.grade is None else str(label.grade)
            self.counts[key] = self.counts.get(key, 0) + 1
        self.tally.add(f"topic {assessment.query_id}", {x.docid: list(x.flags) for x in assessment.labels if x.flags})
        lines = [json.dumps(assessment.as_dict())] if self.jsonl else assessment.qrels_lines()
        if self.stdout:
            for line in assessment.qrels_lines():
                print(line, flush=True)
        else:
            self.sink.write(lines)
        return assessment.costs, assessment.complete

    def report(self) -> None:
        self.tally.report()
        if self.counts:
            grades = ", ".join(f"{self.counts[k]} graded {k}" for k in sorted(k for k in self.counts if k != "hole"))
            holes = self.counts.get("hole", 0)
            err.print(f"labels: {grades}" + (f"; {holes} holes (not graded: the budget stopped them, or their "
                                             "verdicts were unreadable)" if holes else ""), soft_wrap=True,
                      highlight=False)


@app.command("assess-eval")
def assess_eval(
    assessor_qrels: Annotated[Path, typer.Argument(help="The assessor's qrels (judgerank assess's, or any).")],
    runs: RunsArg = None,
    qrels: Annotated[Path | None, typer.Option(help="People's qrels, the reference.")] = None,
    measures: Annotated[str, typer.Option(help="Comma-separated measures the systems are ordered by.")] = "ndcg@10,map",
    level: Annotated[int, typer.Option(help="Lowest grade counted relevant (binary kappa, MAP); TREC DL uses 2.")] = 2,
    samples: Annotated[int, typer.Option(help="Bootstrap resamples of the topics for the intervals.", min=10)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the resamples.", min=0)] = 0,
    report: Annotated[Path | None, typer.Option(help="Write the report card as HTML with its plots.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write every figure as JSON.")] = None,
    format: FormatOpt = None,
) -> None:
    """How far the assessor's qrels agree with people's: Cohen's kappa on grades and on binary
    relevance, the confusion matrix and kappa per topic; each run's measures under both qrels,
    Kendall's tau and tau_AP between the two orders of the runs with bootstrap intervals over
    topics, and the same with each run condensed to judged passages (holes)."""
    from judgerank.assess.agreement import label_agreement, system_agreement
    from judgerank.assess.report import write_assess_report

    if qrels is None:
        raise JudgerankError("assess-eval compares with people's qrels: add --qrels FILE")
    check_writable(report, out_path)
    tables = as_tables(format)
    mine, theirs = read_qrels(assessor_qrels), read_qrels(qrels)
    labels = label_agreement(mine, theirs, level)
    systems: list[tuple[str, SystemAgreement]] = []
    if runs and len(runs) < 2:
        err.print("note: one run: ordering systems takes two or more, so only the labels are compared", markup=False)
    elif runs:
        named = read_runs(runs)
        for measure in [m.strip() for m in measures.split(",") if m.strip()]:
            for holes in ("count", "condense"):
                systems.append((holes, system_agreement(named, mine, theirs, measure, level, samples, seed, holes)))
    elif report is not None or out_path is not None:
        err.print("note: no runs given: only the label agreement is reported", markup=False)
    payload = _payload(labels, systems)
    if tables:
        _show(labels, systems)
    else:
        emit(payload)
    if out_path is not None:
        out_path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        err.print(f"wrote {out_path}")
    if report is not None:
        write_assess_report(report, labels, systems, f"{assessor_qrels} against {qrels}")
        err.print(f"wrote {report}")


def _payload(labels: LabelAgreement, systems: list[tuple[str, SystemAgreement]]) -> dict[str, Any]:
    return {"labels": vars(labels),
            "systems": [{"measure": s.measure, "holes": holes, "topics": len(s.topics), "assessor": s.assessor,
                         "people": s.people, "tau": s.tau.as_dict(), "tau_ap": s.tau_ap.as_dict(),
                         "judged_at_10": s.judged_at_10} for holes, s in systems]}


def _show(labels: LabelAgreement, systems: list[tuple[str, SystemAgreement]]) -> None:
    t = table(f"labels: {labels.shared} passages both qrels grade", ["figure", "value"], left=("figure",))
    t.add_row("Cohen's κ, grades", f"{labels.kappa:.3f}")
    t.add_row(f"Cohen's κ, binary (grade ≥ {labels.level})", f"{labels.kappa_binary:.3f}")
    topics = [k for k in labels.per_topic_kappa.values() if k is not None]
    if topics:
        t.add_row("κ per topic: median", f"{sorted(topics)[len(topics) // 2]:.3f}")
    t.add_row("graded by the assessor only", str(labels.only_assessor))
    t.add_row("graded by people only (pooled topics)", str(labels.only_people))
    out.print(t)
    c = table("confusion: people's grade (rows) by the assessor's (columns)", ["people", *map(str, labels.grades)],
              left=("people",))
    for grade, row in zip(labels.grades, labels.confusion):
        c.add_row(str(grade), *map(str, row))
    out.print(c)
    for holes, s in systems:
        how = "unjudged passages count as irrelevant" if holes == "count" else "runs condensed to judged passages"
        r = table(f"systems by {s.measure} ({how}; {len(s.topics)} topics): τ {s.tau.value:.3f} "
                  f"[{s.tau.low:.3f}, {s.tau.high:.3f}], τ_AP {s.tau_ap.value:.3f} [{s.tau_ap.low:.3f}, "
                  f"{s.tau_ap.high:.3f}]", ["run", "assessor", "people", "judged@10 (assessor, people)"],
                  left=("run",))
        for name in sorted(s.people, key=lambda n: -s.people[n]):
            a, p = s.judged_at_10[name]
            r.add_row(name, f"{s.assessor[name]:.4f}", f"{s.people[name]:.4f}", f"{a:.2f}, {p:.2f}")
        out.print(r)
