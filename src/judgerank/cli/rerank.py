"""`judgerank rerank` and `judgerank evaluate`: rank passages for queries, and score a run against qrels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from judgerank.cli.base import (
    ACTIVITY,
    MODEL_HELP,
    CacheOpt,
    ContextOpt,
    CpusOpt,
    FlagTally,
    Interrupted,
    NoCacheOpt,
    OrderedOpt,
    Output,
    RayOpt,
    StoreOpt,
    ThreadsOpt,
    WorkersOpt,
    _budget,
    _cluster,
    _interrupted,
    _job_spec,
    _names,
    _on_ray,
    _print_costs,
    _query_of_json,
    _query_of_trec,
    _runtime,
    app,
    err,
    out,
    with_method_options,
)
from judgerank.errors import JudgerankError
from judgerank.types import Costs, Ranking


@app.command()
@with_method_options
def rerank(
    query: Annotated[str | None, typer.Option(help="The query (with --docs).")] = None,
    docs: Annotated[Path | None, typer.Option(help="JSONL of passages {id, text} (with --query).")] = None,
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="JSONL requests {query_id, query, candidates} or rank_llm JSON.")
    ] = None,
    method: Annotated[
        str | None, typer.Option(help=f"Ranking method, one of: {_names('rerank')} (see `judgerank methods`).")
    ] = None,
    model: Annotated[str | None, typer.Option(help=MODEL_HELP)] = None,
    max_calls: Annotated[int | None, typer.Option(help="Budget: new LLM calls per query.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Budget: tokens per query.")] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write rankings: .jsonl/.json as JSON lines, else a TREC run.")
    ] = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    show: Annotated[int, typer.Option(help="Rows of each ranking to print.", min=1)] = 10,
    limit: Annotated[int | None, typer.Option(help="Rank only the first N queries of --input.", min=1)] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server (…/v1) to judge with; --model names its model.")
    ] = None,
    store: StoreOpt = None,
    threads: ThreadsOpt = None,
    context: ContextOpt = None,
    ray: RayOpt = None,
    workers: WorkersOpt = None,
    cpus_per_worker: CpusOpt = 1.0,
    ordered: OrderedOpt = False,
    **options: Any,
) -> None:
    """Rerank candidates for one query (--query/--docs) or many (--input).

    With --out, an interrupted run leaves NAME.partial; the same command resumes it, skipping the
    queries it holds. With --ray, the queries are spread over Ray workers."""
    from judgerank.engine import DEFAULT_METHOD, Reranker
    from judgerank.io.requests import read_passages, read_requests
    from judgerank.io.trec import run_lines

    if input is not None and (query is not None or docs is not None):
        raise JudgerankError("give either --input, or --query with --docs, not both")
    if input is not None:
        requests = read_requests(input)[:limit]
    elif query is not None and docs is not None:
        requests = [read_passages(docs, query)]
    else:
        raise JudgerankError("nothing to rank: give --query with --docs, or --input")
    # the store and the model are checked here, before any work (a wrong password, a missing model)
    runtime = _runtime(cache, no_cache, base_url, store, threads, context)
    reranker = Reranker(method or DEFAULT_METHOD, model, budget=_budget(max_calls, max_tokens), runtime=runtime, **options)
    cluster = _cluster(ray, workers, cpus_per_worker, ordered) if ray is not None else None  # joined now: errors first
    as_json = out_path is not None and out_path.suffix in (".jsonl", ".json")
    sink = Output(out_path, resume=_query_of_json if as_json else _query_of_trec, method=reranker.method.name)
    total_requests = len(requests)
    requests = [r for r in requests if r.query.id not in sink.done]
    if ray is not None:
        spec = _job_spec("rerank", reranker.method.name, model, base_url, runtime, threads, cpus_per_worker,
                         _budget(max_calls, max_tokens), {k: v for k, v in options.items() if v is not None}, context)

        def write(n: int, record: dict[str, Any]) -> None:
            ranking = Ranking.from_dict(record)
            sink.write([json.dumps(record)] if as_json else run_lines(ranking, reranker.method.name))
            if out_path is None:
                _show_ranking(ranking, requests[n], show, reranker.method)

        _on_ray(requests, spec, cluster, sink, out_path, ("query", "queries"), write)
        return
    total = Costs()
    incomplete = 0
    repairs: dict[str, int] = {}
    done = 0
    tally = FlagTally(reranker.options.guard)
    with ACTIVITY.showing("reranking", len(requests)) as activity:
        try:
            for request in requests:
                ranking = reranker.rerank(request)
                total.add(ranking.costs)
                incomplete += not ranking.complete
                for key, value in (ranking.parse or {}).items():
                    repairs[key] = repairs.get(key, 0) + value
                tally.add(f"query {request.query.id}", ranking.flags)
                # written as each query finishes: an interrupted run keeps what it finished
                sink.write([json.dumps(ranking.as_dict())] if as_json else run_lines(ranking, reranker.method.name))
                done += 1
                if out_path is None or len(requests) == 1:
                    _show_ranking(ranking, request, show, reranker.method)
                activity.advance(f"reranking (q {request.query.id}, {total.calls} calls)")
        except KeyboardInterrupt:
            raise Interrupted(_interrupted(done, len(requests), "queries", sink, runtime)) from None
    sink.finish()
    tally.report()
    if repairs:
        err.print("listwise answers repaired: " + ", ".join(f"{k} {v}" for k, v in repairs.items()))
    _print_costs(total, len(requests), incomplete)
    if out_path:
        err.print(f"wrote {out_path}" + (f" ({total_requests - len(requests)} queries resumed from it)"
                                         if len(requests) < total_requests else ""))


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
) -> None:
    """Score a run against qrels, exactly as trec_eval does."""
    from judgerank.evaluate.ir import evaluate as run_evaluate
    from judgerank.evaluate.ir import format_trec_eval, trec_eval_standard
    from judgerank.io.trec import read_qrels, read_run_with_tag

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
    names = [m for m in metrics.split(",") if m.strip()]
    result = run_evaluate(run_data, qrels_data, names, level)
    table = Table(title=f"{run.name} ({len(result.per_query)} queries)")
    table.add_column("query")
    for name in result.mean:
        table.add_column(name, justify="right")
    if per_query:
        for qid, values in result.per_query.items():
            table.add_row(qid, *(f"{v:.4f}" for v in values.values()))
    table.add_row("all", *(f"{v:.4f}" for v in result.mean.values()), style="bold")
    out.print(table)


def _show_ranking(ranking: Ranking, request: Any, rows: int, method: Any) -> None:
    """A table when stdout is a terminal; else the ranking as one JSON line, for pipes."""
    if not out.is_terminal:
        print(json.dumps(ranking.as_dict()), flush=True)
        return
    texts = {i.id: i.text for i in request.items}
    caption = f"score: {method.score}"
    if not ranking.complete:
        caption += "; budget reached: rows marked 'not judged' keep their input order"
    table = Table(title=f"{request.query.text}  [{ranking.method}]", caption=caption, caption_justify="left")
    table.add_column("rank", justify="right", no_wrap=True, min_width=4)
    table.add_column("id", no_wrap=True, min_width=min(24, max(len(d) for d in ranking.ids[:rows])))
    table.add_column("score", justify="right", no_wrap=True, min_width=6)
    table.add_column("text", overflow="ellipsis", no_wrap=True, max_width=max(20, out.width - 40))
    for r, (doc, score) in enumerate(zip(ranking.ids[:rows], ranking.scores[:rows]), 1):
        if score is not None:
            shown = f"{score:.3f}"
        else:
            shown = "not judged" if not ranking.complete else "-"
        mark = f"[flagged: {', '.join(ranking.flags[doc])}] " if doc in ranking.flags else ""
        table.add_row(str(r), doc, shown, mark + texts[doc],
                      style="dim" if score is None and not ranking.complete else None)
    out.print(table)
