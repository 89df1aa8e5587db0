"""`judgerank rerank` and `judgerank evaluate`: rank passages for queries, and score a run against qrels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

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
    make_runtime,
    method_options,
    names,
    with_method_options,
)
from judgerank.cli.show import as_tables, emit, show_said, table
from judgerank.cli.tasks import (
    FlagTally,
    Output,
    id_of_json,
    id_of_rank_llm,
    id_of_trec,
    job_spec,
    join_cluster,
    on_ray,
    run_tasks,
)
from judgerank.core.costs import Costs
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Ranking, Request
from judgerank.io.trec import read_qrels, read_run_with_tag, run_lines
from judgerank.rerank import Reranker
from judgerank.rerank.corpus import read_run_requests
from judgerank.rerank.evaluate import evaluate as run_evaluate
from judgerank.rerank.evaluate import format_trec_eval, trec_eval_standard
from judgerank.rerank.files import rank_llm_result, read_passages, read_requests
from judgerank.strategies.registry import DEFAULT_RERANK_METHOD

QueryOpt = Annotated[str | None, typer.Option(help="The query (with --docs).")]
DocsOpt = Annotated[Path | None, typer.Option(help="JSONL of passages {id, text} (with --query).")]
InputOpt = Annotated[Path | None, typer.Option(
    "--input", "-i", help="JSONL requests {query_id, query, candidates} or rank_llm JSON.")]
MethodOpt = Annotated[str, typer.Option(help=f"Ranking method, one of: {names('rerank')} (see `judgerank methods`).")]
MaxCallsOpt = Annotated[int | None, typer.Option(help="Budget: new LLM calls per query.")]
MaxTokensOpt = Annotated[int | None, typer.Option(help="Budget: tokens per query.")]
RunOutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Write rankings: .jsonl as JSON lines, .json as rank_llm's Result JSON, else a TREC run.")]
ShowOpt = Annotated[int, typer.Option(help="Rows of each ranking to print.", min=1)]
LimitOpt = Annotated[int | None, typer.Option(help="Rank only the first N queries of --input or --run.", min=1)]
RunOpt = Annotated[Path | None, typer.Option(
    "--run", help="A first-stage TREC run to rerank (with --topics and --corpus): each query's top --depth "
    "(default 100) by score.")]
TopicsOpt = Annotated[Path | None, typer.Option(
    help="With --run: the queries, as BEIR queries.jsonl, JSON lines {query_id, query}, a TREC topics file or a "
    "qid<TAB>query TSV.")]
CorpusOpt = Annotated[Path | None, typer.Option(
    help="With --run: the passages, as BEIR corpus.jsonl, pyserini JSON lines {id, contents} or a docid<TAB>text "
    "TSV (.gz ok); read line by line, keeping only the passages the run names.")]
RUN_DEPTH = 100  # candidates per query taken from a --run when --depth does not say


@app.command()
@with_method_options
def rerank(
    query: QueryOpt = None, docs: DocsOpt = None, input: InputOpt = None, run: RunOpt = None, topics: TopicsOpt = None,
    corpus: CorpusOpt = None, method: MethodOpt = DEFAULT_RERANK_METHOD,
    model: ModelOpt = None, max_calls: MaxCallsOpt = None, max_tokens: MaxTokensOpt = None, out_path: RunOutOpt = None,
    show: ShowOpt = 10, limit: LimitOpt = None, base_url: BaseUrlOpt = None, store: StoreOpt = None,
    no_store: NoStoreOpt = False, threads: ThreadsOpt = None, context: ContextOpt = None, format: FormatOpt = None,
    ray: RayOpt = None, workers: WorkersOpt = None, cpus_per_worker: CpusOpt = 1.0, ordered: OrderedOpt = False,
    **options: Any,
) -> None:
    """Rerank candidates for one query (--query/--docs) or many (--input, or --run with --topics and --corpus).

    With --out, an interrupted run leaves NAME.partial; the same command resumes it, skipping the
    queries it holds. With --ray, the queries are spread over Ray workers."""
    if run is not None or topics is not None or corpus is not None:
        requests = run_requests(run, topics, corpus, options.get("depth") or RUN_DEPTH, (query, docs, input), limit)
    else:
        requests = given_requests(query, docs, input, limit)
    tables = as_tables(format)
    # the store and the model are checked here, before any work (a wrong password, a missing model)
    runtime = make_runtime(store, no_store, base_url, threads, context)
    reranker = Reranker(method, model, budget=budget(max_calls, max_tokens), runtime=runtime,
                        **method_options(options))
    cluster = join_cluster(ray, workers, cpus_per_worker, ordered) if ray is not None else None  # errors first
    form = "trec" if out_path is None or out_path.suffix not in (".jsonl", ".json") else out_path.suffix[1:]
    sink = Output(out_path, resume={"jsonl": id_of_json, "json": id_of_rank_llm, "trec": id_of_trec}[form],
                  method=reranker.method.name, as_list=form == "json",
                  settings={"command": "rerank", "model": model, "base_url": base_url, "options": method_options(options),
                            "input": str(input) if input else None, "query": query, "docs": str(docs) if docs else None,
                            **({"run": str(run), "topics": str(topics), "corpus": str(corpus)} if run else {})})
    todo = [r for r in requests if r.query.id not in sink.done]
    writer = _Writer(reranker, sink, form, todo, show if out_path is None or len(todo) == 1 else 0, tables)
    if cluster is not None:
        spec = job_spec("rerank", reranker.method.name, model, base_url, runtime, threads, cpus_per_worker,
                        max_calls, max_tokens, method_options(options), context)
        on_ray(todo, spec, cluster, ("query", "queries"), sink, out_path, lambda n, r: writer(n, Ranking.from_dict(r)))
        return
    results = ((n, reranker.rank(r.query, r.items)) for n, r in enumerate(todo))
    run_tasks(results, len(todo), writer, label="reranking", unit=("query", "queries"), sink=sink, runtime=runtime)
    writer.report()
    if len(todo) < len(requests):
        err.print(f"{len(requests) - len(todo)} queries resumed from {out_path}")


class _Writer:
    """Each ranking as it finishes: to the output file, to stdout when `show` (a table of `show`
    rows on a terminal, else a JSON line), and into the run's tallies."""

    def __init__(self, reranker: Reranker, sink: Output, form: str, todo: list[Request], show: int,
                 tables: bool) -> None:
        self.reranker, self.sink, self.form, self.todo, self.show = reranker, sink, form, todo, show
        self.tables = tables
        self.tally = FlagTally(reranker.options.guard)
        self.repairs: dict[str, int] = {}

    def __call__(self, n: int, ranking: Ranking) -> tuple[Costs, bool]:
        for key, value in (ranking.parse or {}).items():
            self.repairs[key] = self.repairs.get(key, 0) + value
        self.tally.add(f"query {ranking.query_id}", ranking.flags)
        # written as each query finishes: an interrupted run keeps what it finished
        method = self.reranker.method.name
        if self.form == "jsonl":
            self.sink.write([json.dumps(ranking.as_dict())])
        elif self.form == "json":
            self.sink.write([json.dumps(rank_llm_result(ranking, self.todo[n]))])
        else:
            self.sink.write(run_lines(ranking, method))
        if self.show and self.tables:
            _show(ranking, self.todo[n], self.show, self.reranker)
        elif self.show:
            emit(ranking.as_dict())
        return ranking.costs, ranking.complete

    def report(self) -> None:
        self.tally.report()
        if self.repairs:
            err.print("listwise answers repaired: " + ", ".join(f"{k} {v}" for k, v in self.repairs.items()))


def given_requests(query: str | None, docs: Path | None, input: Path | None, limit: int | None) -> list[Request]:
    if input is not None and (query is not None or docs is not None):
        raise JudgerankError("give either --input, or --query with --docs, not both")
    if input is not None:
        return read_requests(input)[:limit]
    if query is not None and docs is not None:
        if not query.strip():
            raise JudgerankError("--query is blank: give the text the passages are ranked for")
        return [read_passages(docs, query)]
    raise JudgerankError("nothing to rank: give --query with --docs, or --input")


def run_requests(run: Path | None, topics: Path | None, corpus: Path | None, depth: int, others: tuple[object, ...],
                  limit: int | None) -> list[Request]:
    if any(o is not None for o in others):
        raise JudgerankError("give --run with --topics and --corpus, or --input, or --query with --docs: one of them")
    if run is None or topics is None or corpus is None:
        lacking = [name for name, value in (("--run", run), ("--topics", topics), ("--corpus", corpus)) if value is None]
        raise JudgerankError(f"reranking a run needs --run, --topics and --corpus: add {' and '.join(lacking)}")
    return read_run_requests(run, topics, corpus, depth)[:limit]


def _show(ranking: Ranking, request: Request, rows: int, reranker: Reranker) -> None:
    """The ranking as a table of its first `rows`."""
    texts = {i.id: i.text for i in request.items}
    caption = f"score: {reranker.method.score}"
    if not ranking.complete:
        caption += "; budget reached: rows marked 'not judged' keep their input order"
    t = table(f"{request.query.text}  [{ranking.method}]", ("rank", "id", "score", "text"), left=("id", "text"),
              caption=caption, wide="text")
    for r, (doc, score) in enumerate(zip(ranking.ids[:rows], ranking.scores[:rows]), 1):
        shown = f"{score:.3f}" if score is not None else "not judged" if not ranking.complete else "-"
        mark = f"[flagged: {', '.join(ranking.flags[doc])}] " if doc in ranking.flags else ""
        t.add_row(str(r), doc, shown, mark + texts[doc], style="dim" if score is None and not ranking.complete else None)
    out.print(t)
    show_said(ranking.explanations)


@app.command()
def evaluate(
    run: Annotated[Path, typer.Argument(help="TREC run file.")],
    qrels: Annotated[Path, typer.Option(help="TREC qrels file.")],
    metrics: Annotated[
        str, typer.Option(help="Comma-separated: ndcg@k, map, mrr@k, p@k, recall@k, rprec, bpref.")
    ] = "ndcg@10,map,mrr@10,recall@100",
    level: Annotated[int, typer.Option(help="Lowest grade counted relevant by binary measures (TREC DL uses 2).")] = 1,
    per_query: Annotated[bool, typer.Option(help="Also print each query's values.")] = False,
    trec_eval: Annotated[
        bool, typer.Option("--trec-eval", help="Print trec_eval's default measure set in its own layout.")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Score only the first N queries of the run.", min=1)] = None,
    format: FormatOpt = None,
) -> None:
    """Score a run against qrels, exactly as trec_eval does."""
    tables = as_tables(format)
    run_data, tag = read_run_with_tag(run)
    if limit is not None:
        run_data = dict(list(run_data.items())[:limit])
    qrels_data = read_qrels(qrels)
    if trec_eval:
        print(format_trec_eval("runid", "all", tag))
        for name, qid, value in trec_eval_standard(run_data, qrels_data, level):
            if per_query or qid == "all":
                print(format_trec_eval(name, qid, value))
        return
    result = run_evaluate(run_data, qrels_data, [m for m in metrics.split(",") if m.strip()], level)
    if not tables:
        emit({"run": str(run), "queries": len(result.per_query), "mean": result.mean,
              **({"per_query": result.per_query} if per_query else {})})
        return
    t = table(f"{run.name} ({len(result.per_query)} queries)", ["query", *result.mean], left=("query",))
    for qid, values in result.per_query.items() if per_query else ():
        t.add_row(qid, *(f"{v:.4f}" for v in values.values()))
    t.add_row("all", *(f"{v:.4f}" for v in result.mean.values()), style="bold")
    out.print(t)
