"""`judgerank distil`: train a student (a bi-encoder or a cross-encoder) from a teacher's judgments in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from judgerank.backends.int8 import mark_int8
from judgerank.cli.app import STOP_MESSAGE, Interrupted, app, err
from judgerank.cli.options import (
    BaseUrlOpt,
    ContextOpt,
    ModelOpt,
    NoStoreOpt,
    StoreOpt,
    ThreadsOpt,
    budget,
    make_runtime,
    method_options,
    names,
    with_method_options,
)
from judgerank.cli.rerank import CorpusOpt, InputOpt, LimitOpt, RunOpt, TopicsOpt, given_requests, run_requests
from judgerank.cli.tasks import ACTIVITY, Activity, Output, print_costs, run_tasks
from judgerank.core.costs import Costs
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Request
from judgerank.distil import Lesson, Settings, Taught, Teaching, Training, teach, teacher_of
from judgerank.distil.lessons import SOFT_TEACHERS
from judgerank.distil.queries import generated_requests
from judgerank.distil.trainer import check_folder, encoder
from judgerank.rerank import Reranker
from judgerank.runtime import Runtime

TEACHER_DEPTH = 20  # passages of each query the teacher labels when --depth does not say


@app.command()
@with_method_options
def distil(
    out_path: Annotated[Path, typer.Option("--out", "-o", help="The student's folder (made; a stopped run resumes in "
                                                               "it).", show_default=False)],
    run: RunOpt = None, topics: TopicsOpt = None, corpus: CorpusOpt = None, input: InputOpt = None,
    method: Annotated[str, typer.Option(help=f"The teacher's rerank method, one of: {names('rerank')}.")] = "pointwise",
    model: ModelOpt = None,
    max_calls: Annotated[int | None, typer.Option(help="Budget: new teacher calls per query (0: only the judgments "
                                                       "the store holds).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Budget: teacher tokens per query.")] = None,
    limit: LimitOpt = None,
    generate_queries: Annotated[int | None, typer.Option(
        help="More queries (or none at all?): the teacher's LLM writes one for each of N passages sampled from "
             "--corpus (InPars), and each gets the corpus's --depth passages nearest by the embedding as candidates; "
             "with --run and --topics, besides their queries.", min=1, show_default=False)] = None,
    student: Annotated[str, typer.Option(help="bi-encoder: the embedding model trained on (starts where the embedding "
                                              "is; ranks with --method bi-encoder); cross-encoder: query and passage "
                                              "read together with a new head (--method cross-encoder).")]
    = "bi-encoder",
    base: Annotated[Path | None, typer.Option("--from", help="The encoder the student starts from (a sentence-"
                                                             "transformers or transformers folder). Default: the "
                                                             "bundled all-MiniLM-L6-v2.", show_default=False)] = None,
    loss: Annotated[str, typer.Option(help="pointwise (soft labels: a pointwise teacher's probabilities) or pairwise "
                                           "(RankNet on the pairs the teacher implies); auto: pairwise for a "
                                           "bi-encoder, and for a cross-encoder pointwise where the teacher gives "
                                           "probabilities.")] = "auto",
    epochs: Annotated[int, typer.Option(help="Epochs at most.", min=1)] = 4,
    patience: Annotated[int, typer.Option(help="Stop after this many epochs without a better validation loss.",
                                          min=1)] = 1,
    learning_rate: Annotated[float | None, typer.Option(help="AdamW's learning rate. Default: 2e-5 for a bi-encoder, "
                                                             "5e-5 for a cross-encoder.", show_default=False)] = None,
    validation: Annotated[float, typer.Option(help="Share of the queries held out to choose the epoch (0: none; "
                                                   "the last epoch is kept).")] = 0.2,
    max_length: Annotated[int, typer.Option(help="Tokens of a text (a bi-encoder's query or passage; a cross-encoder's "
                                                 "pair together); longer ones are cut.",
                                            min=8)] = 256,
    seed: Annotated[int, typer.Option(help="Seed of the split, the new head and the order of the queries.")] = 0,
    int8: Annotated[bool, typer.Option("--int8/--float32", help="Run the student with int8 weights (its ONNX graph "
                                                               "quantised per channel): about twice the passages a "
                                                               "second on a CPU. Given again on a trained student, it "
                                                               "only switches how the student runs.")] = False,
    base_url: BaseUrlOpt = None, store: StoreOpt = None, no_store: NoStoreOpt = False, threads: ThreadsOpt = None,
    context: ContextOpt = None,
    **options: Any,
) -> None:
    """Train a student from a teacher's judgments: pay for LLM judgments once, rank at embedding speed.

    The teacher (--method with --model, pointwise by default) is asked for each query's top --depth
    (20) candidates through the judgment store: judgments it holds are free, the rest are asked
    under the budget (--max-calls 0 reads only what the store holds). The student starts from the
    bundled all-MiniLM-L6-v2 (or --from) and is trained on the CPU with a share of the queries held
    out; the folder it is written to ranks with `--method bi-encoder --model FOLDER` (a
    cross-encoder student: `--method cross-encoder`), and its distil.json says what it learned from.
    A stopped run resumes from its last finished epoch."""
    depth = options.get("depth") or TEACHER_DEPTH
    if generate_queries is not None and (input is not None or corpus is None):
        raise JudgerankError("--generate-queries writes queries for passages of --corpus: give --corpus (with --run and "
                             "--topics for their queries too; not --input)")
    if loss == "auto":
        loss = "pointwise" if method in SOFT_TEACHERS and student == "cross-encoder" else "pairwise"
    settings = Settings(loss, epochs, patience, learning_rate, validation, max_length, seed=seed, student=student)
    settings.check()
    check_folder(out_path)
    encoder(base)
    chosen = method_options(options) | {"depth": depth}
    runtime = make_runtime(store, no_store, base_url, threads, context)
    requests: list[Request] = []
    written: dict[str, Any] = {}
    if run is not None or topics is not None or (corpus is not None and generate_queries is None):
        requests = run_requests(run, topics, corpus, depth, (None, None, input), limit)
    elif generate_queries is None:
        requests = given_requests(None, None, input, limit)
    if generate_queries is not None and corpus is not None:
        made, written = _generated(runtime, model, corpus, generate_queries, depth, seed)
        requests += made
    teacher = Reranker(method, model, budget=budget(max_calls, max_tokens), runtime=runtime, **chosen)
    if loss == "pointwise" and teacher.method.name not in SOFT_TEACHERS:
        raise JudgerankError(f"--loss pointwise needs a teacher that gives probabilities ({', '.join(SOFT_TEACHERS)}); "
                             f"{teacher.method.name} teaches an order: use --loss pairwise")
    teaching = Teaching()
    lessons: list[Lesson] = []

    def kept(n: int, taught: Taught) -> tuple[Costs, bool]:
        if taught.lesson is not None:
            lessons.append(taught.lesson)
        return taught.costs, taught.complete

    with runtime:
        costs = run_tasks(teach(teacher, requests, teaching), len(requests), kept, label="asking the teacher",
                          unit=("query", "queries"), sink=Output(None), runtime=runtime).costs
    err.print(f"lessons: {len(lessons)} queries, {teaching.judged} passages judged "
              f"({costs.cache_hits} from the store, {costs.calls} new calls)"
              + (f"; {teaching.unjudged} left unjudged by the budget" if teaching.unjudged else "")
              + (f"; {teaching.flagged} flagged by the guard and left out" if teaching.flagged else "")
              + (f"; {teaching.left_out} queries with nothing to teach" if teaching.left_out else ""),
              highlight=False, soft_wrap=True)
    provenance = {"teacher": teacher_of(teacher), "judgments": {"judged": teaching.judged,
                                                                "flagged_left_out": teaching.flagged,
                                                                "from_store": costs.cache_hits,
                                                                "new_calls": costs.calls},
                  "inputs": {"run": str(run) if run else None, "topics": str(topics) if topics else None,
                             "corpus": str(corpus) if corpus else None, "input": str(input) if input else None,
                             **written}}
    training = Training(lessons, settings, out_path, base=base, provenance=provenance, threads=threads)
    STOP_MESSAGE.append(lambda: _stopped(out_path))
    try:
        with ACTIVITY.showing("training", len(training.train)) as activity:
            trained = training.run(lambda what, done, total: _heard(activity, f"training, {what}", done, total),
                                   lambda line: err.print(line, highlight=False, soft_wrap=True))
    except KeyboardInterrupt:
        raise Interrupted(_stopped(out_path)) from None
    finally:
        STOP_MESSAGE.pop()
    mark_int8(out_path, int8)
    best = next(e for e in trained.epochs if e.number == trained.best)
    said = f", validation loss {best.validation_loss:.4f}" if best.validation_loss is not None else ""
    said += f", tau with the teacher {best.agreement:.3f}" if best.agreement is not None else ""
    err.print(f"student: {out_path} (epoch {trained.best} of {len(trained.epochs)} kept{said}); "
              f"{len(trained.train_queries)} training and {len(trained.validation_queries)} validation queries; "
              f"trained in {trained.seconds:.0f} s" + (f" ({trained.resumed} epochs resumed)" if trained.resumed else "")
              + ("; runs with int8 weights" if int8 else ""),
              highlight=False, soft_wrap=True)
    print(json.dumps({"student": str(out_path), "best_epoch": trained.best, "validation_loss": best.validation_loss,
                      "agreement": best.agreement, "training_seconds": trained.seconds,
                      "lessons": len(lessons), "judged": teaching.judged, "int8": int8}))


def _generated(runtime: Runtime, model: str | None, corpus: Path, count: int, depth: int,
               seed: int) -> tuple[list[Request], dict[str, Any]]:
    """Requests from queries the teacher's LLM writes for sampled passages, and what to record of them."""
    with ACTIVITY.showing("writing queries", count) as activity:
        made = generated_requests(runtime, model, corpus, count, depth, seed,
                                  lambda done, total: _heard(activity, f"writing queries ({done} of {total})", done,
                                                             total))
    print_costs(made.costs, len(made.requests), 0, ("query written", "queries written"))
    if made.unreadable:
        err.print(f"{made.unreadable} passages got no readable query, or one written already for another passage: left "
                  "out", highlight=False)
    if not made.requests:
        raise JudgerankError(f"the model wrote no readable query for the {count} passages: try another --model")
    return made.requests, {"generated_queries": [{"query_id": r.query.id, "query": r.query.text} for r in made.requests],
                           "unreadable": made.unreadable}


def _heard(activity: Activity, what: str, done: int, total: int) -> None:
    """The progress line: `what`, and `done` of `total`."""
    if activity.progress is not None and activity.task is not None:
        activity.progress.update(activity.task, completed=done, total=total, description=what)


def _stopped(folder: Path) -> str:
    return (f"interrupted: {folder}/.training keeps every finished epoch and the store every judgment: run the same "
            "command again to resume")
