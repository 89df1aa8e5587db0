"""The `judgerank` command line: rerank, evaluate and arena.

Every failure is one line on stderr and a non-zero exit; set JUDGERANK_DEBUG=1 for a traceback.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from judgerank.errors import JudgerankError
from judgerank.types import Budget, Costs, Ranking

app = typer.Typer(
    help="Turn LLM judgments into reliable rankings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from judgerank import __version__

        print(f"judgerank {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Turn LLM judgments into reliable rankings: rerank passages, judge responses, rank players."""


MODEL_HELP = (
    "GGUF path, or smollm2-135m (embedded default), qwen2.5-coder-0.5b, qwen2.5-coder-1.5b; "
    "with --base-url, the name the server serves."
)


def _names(job: str, pairwise: bool = False) -> str:
    from judgerank.methods import METHODS

    return ", ".join(n for n, m in METHODS.items() if job in m.jobs and not (pairwise and "pointwise" in n))


def with_method_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add every method option of the registry (judgerank.methods.Options) to a command, with its
    default and help, as keyword arguments; the command receives them in **options."""
    from judgerank.methods import Options

    params = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.kind != p.VAR_KEYWORD]
    for f in fields(Options):
        meta = f.metadata
        default = None if f.default is MISSING else f.default
        flags = [meta["flag"]] if meta["flag"] else []
        help_text = meta["help"] + (f" One of: {', '.join(meta['choices'])}." if meta["choices"] else "")
        kind = {"int": int, "int | None": int | None, "str": str, "bool": bool, "float": float,
                "float | None": float | None}[str(f.type)]
        option = typer.Option(*flags, help=help_text, rich_help_panel="Method options")
        params.append(
            inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, option])
        )
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return command


StoreOpt = Annotated[
    str | None,
    typer.Option(help="Judgment store: a SQLite path or a postgresql://user:password@host/db URL shared by workers "
                 "and machines (also: JUDGERANK_STORE). Default: the user cache."),
]
ThreadsOpt = Annotated[int | None, typer.Option(help="llama.cpp threads for a local model (default: every core; "
                                                    "with --ray, the CPUs of a worker).", min=1)]
ContextOpt = Annotated[int | None, typer.Option(
    help="Longest prompt a local model takes, in tokens (default: 4096 for llama.cpp, the model's own for icr); "
    "first-full and icr put the whole list in one prompt.", min=16)]
CacheOpt = Annotated[
    Path | None, typer.Option(help="Judgment cache (SQLite). Default: ~/.cache/judgerank/judgments.sqlite.")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the judgment cache.")]
MaxWordsOpt = Annotated[int, typer.Option(help="Words kept of each prompt and response, whitespace as written; longer "
                                             "texts are cut and counted in the costs (clipped_texts).", min=1)]
RayOpt = Annotated[
    str | None,
    typer.Option(help="Spread the work over Ray workers: local (a cluster in this process), auto (the running "
                 "cluster, else a local one) or an address (ray://head:10001). Needs Ray (the ray extra).",
                 rich_help_panel="Past one machine"),
]
WorkersOpt = Annotated[int | None, typer.Option(help="With --ray: workers, each holding one model (default: the "
                                                     "cluster's CPUs / --cpus-per-worker).", min=1,
                                                rich_help_panel="Past one machine")]
CpusOpt = Annotated[float, typer.Option(help="With --ray: CPUs each worker takes.", min=0.01,
                                        rich_help_panel="Past one machine")]
OrderedOpt = Annotated[bool, typer.Option("--ordered/--as-finished", help="With --ray: write results in input order "
                                          "(can hold finished ones back), or as workers finish them.",
                                          rich_help_panel="Past one machine")]


def _store_spec(cache: Path | None, store: str | None, no_cache: bool) -> str | None:
    """The judgment store the options name: None (--no-cache), a SQLite path, a postgresql:// URL,
    or "default" (JUDGERANK_STORE, else the user cache)."""
    if cache is not None and store is not None:
        raise JudgerankError("give --store or --cache, not both (--store takes a path or a postgresql:// URL)")
    if no_cache:
        return None
    return store or (str(cache) if cache is not None else "default")


def _runtime(cache: Path | None, no_cache: bool, base_url: str | None, store: str | None = None,
             threads: int | None = None, context: int | None = None) -> Any:
    from judgerank.runtime import Runtime

    return Runtime(store=_store_spec(cache, store, no_cache), base_url=base_url, threads=threads, context=context,
                   observer=ACTIVITY)


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


def _interrupted(done: int, total: int, what: str, sink: Output, runtime: Any) -> str:
    kept = f"{sink.partial} holds the {done} finished; " if sink.path else ""
    store = runtime.store
    if store is None:
        resume = "judgments were not cached (--no-cache), so a re-run starts over"
    else:
        resume = f"every finished judgment is in the cache {getattr(store, 'path', '')}: run the same command to resume"
    return f"interrupted after {done} of {total} {what}; {kept}{resume}"


def _job_spec(kind: str, method: str, model: str | None, base_url: str | None, runtime: Any, threads: int | None,
              cpus_per_worker: float, budget: Budget, options: dict[str, Any], context: int | None = None) -> Any:
    """The job as Ray workers rebuild it; the driver's runtime is closed (each worker opens its own)."""
    from judgerank.distributed.jobs import JobSpec

    spec = JobSpec(kind, method, model, base_url, store=_store_for_workers(runtime),  # type: ignore[arg-type]
                   threads=threads or max(1, int(cpus_per_worker)), max_calls=budget.max_calls,
                   max_tokens=budget.max_tokens, options=options, context=context)
    runtime.close()
    return spec


def _store_for_workers(runtime: Any) -> str | None:
    """The runtime's store as workers must name it: the URL, or the SQLite file's absolute path
    (with a warning when the cluster spans machines: each would keep its own file)."""
    if runtime.store is None:
        return None
    url = getattr(runtime.store, "url", None)
    if url is not None:
        return str(url)
    import ray

    if sum(1 for node in ray.nodes() if node.get("Alive")) > 1:
        err.print("warning: the Ray cluster spans machines and the store is a SQLite file: workers on other "
                  "machines keep their own copy; give --store postgresql://... to share judgments", markup=False)
    return str(Path(runtime.store.path).resolve())


def _cluster(address: str, workers: int | None, cpus_per_worker: float, ordered: bool) -> Any:
    """The Ray cluster, joined (or started) and checked against --workers before any output is opened."""
    from judgerank.distributed.ray import Cluster, connect

    cluster = Cluster(address=address, workers=workers, cpus_per_worker=cpus_per_worker, ordered=ordered)
    connect(cluster)
    return cluster


def _on_ray(tasks: list[Any], spec: Any, cluster: Any, sink: Output, out_path: Path | None,
            unit: tuple[str, str], write: Callable[[int, dict[str, Any]], None]) -> None:
    """A job's tasks on Ray workers: each result handed to `write` as it arrives, costs summed
    over workers, each worker's count, calls and seconds printed and written beside --out
    (NAME.workers.json)."""
    import time

    from judgerank.distributed.ray import run as run_on_ray

    total, incomplete, done = Costs(), 0, 0
    per_worker: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    with ACTIVITY.showing(f"{spec.kind} on Ray", len(tasks)) as activity:
        try:
            for n, result in run_on_ray(tasks, spec, cluster):
                record = result["result"]
                total.add(Costs(**record["costs"]))
                incomplete += not record["complete"]
                write(n, record | {"worker": result["worker"]})
                done += 1
                w = per_worker.setdefault(result["worker"], {unit[1]: 0, "calls": 0, "seconds": 0.0})
                w[unit[1]] += 1
                w["calls"] += record["costs"]["calls"]
                w["seconds"] += result["seconds"]
                rates = ", ".join(f"{name.rsplit(':', 1)[-1]} {v[unit[1]] / max(v['seconds'], 1e-9):.2f}/s"
                                  for name, v in sorted(per_worker.items()))
                activity.advance(f"{spec.kind} on Ray ({total.calls} calls; {unit[1]} per worker: {rates})")
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted after {done} of {len(tasks)} {unit[1]}; "
                              + (f"{sink.partial} holds the finished ones; " if sink.path else "")
                              + "every finished judgment is in the store: run the same command to resume") from None
    sink.finish()
    wall = time.perf_counter() - started
    for name, w in sorted(per_worker.items()):
        err.print(f"worker {name}: {int(w[unit[1]])} {unit[1]}, {int(w['calls'])} LLM calls, {w['seconds']:.1f} s",
                  markup=False, highlight=False)
    _print_costs(total, len(tasks), incomplete, unit=unit)
    err.print(f"{len(tasks)} {unit[1]} on {len(per_worker)} workers in {wall:.1f} s", highlight=False)
    if out_path is not None:
        summary = out_path.with_name(out_path.name + ".workers.json")
        summary.write_text(json.dumps({unit[1]: len(tasks), "seconds": wall, "costs": total.as_dict(),
                                       "workers": per_worker}, indent=1))
        err.print(f"wrote {out_path} and {summary}")


def _query_of_json(line: str) -> tuple[str, str]:
    record = json.loads(line)
    return str(record.get("query_id", record.get("prompt_id"))), str(record.get("method"))


def _query_of_trec(line: str) -> tuple[str, str]:
    parts = line.split()
    if len(parts) != 6:
        raise ValueError("not a run line")
    return parts[0], parts[5]


class Output:
    """A results file written line by line as work finishes, under NAME.partial until the run
    completes, so an interrupted run never leaves a file that looks finished.

    resume: how to read (id, method) from a line. With it, a NAME.partial left by an interrupted
    run is kept and continued: `done` holds the ids it finished (the last one it holds is dropped
    and done again, as its lines may be cut short; its judgments come from the store)."""

    def __init__(self, path: Path | None, resume: Callable[[str], tuple[str, str]] | None = None,
                 method: str | None = None) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial") if path else None
        self._fh = None
        self.done: set[str] = set()
        if self.partial is not None:
            kept = self._resume(resume, method) if resume is not None and self.partial.is_file() else []
            try:
                self._fh = self.partial.open("w", encoding="utf-8")
            except OSError as exc:
                raise JudgerankError(f"{path}: cannot write ({exc.strerror})") from None
            self.write(kept)

    def _resume(self, key: Callable[[str], tuple[str, str]], method: str | None) -> list[str]:
        assert self.partial is not None
        text = self.partial.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")[:-1]  # a last line without its newline was cut short
        ids: list[str] = []
        for number, line in enumerate(lines, 1):
            try:
                qid, written_by = key(line)
            except (ValueError, KeyError, TypeError):
                raise JudgerankError(f"{self.partial}:{number}: not a line this command writes; delete the file to "
                                     "start over") from None
            if method is not None and written_by != method:
                raise JudgerankError(f"{self.partial} was written by method {written_by}, not {method}: run that "
                                     "method to resume it, or delete the file to start over")
            ids.append(qid)
        if ids:
            last = ids[-1]
            keep = [line for line, qid in zip(lines, ids) if qid != last]
            self.done = set(ids) - {last}
            err.print(f"resuming {self.partial}: {len(self.done)} done, kept", highlight=False)
            return keep
        return []

    def write(self, lines: list[str]) -> None:
        if self._fh is not None:
            self._fh.writelines(line + "\n" for line in lines)
            self._fh.flush()

    def record(self, record: dict[str, Any]) -> None:
        self.write([json.dumps(record)])

    def finish(self) -> None:
        if self._fh is not None and self.path is not None and self.partial is not None:
            self._fh.close()
            self.partial.replace(self.path)


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


@app.command()
def arena(
    battles: Annotated[Path, typer.Argument(help="Battles: CSV or JSONL (.gz ok) with model_a, model_b, winner.")],
    method: Annotated[
        str, typer.Option(help="bradley-terry, elo, rank-centrality, pagerank, win-rate, copeland.")
    ] = "bradley-terry",
    ties: Annotated[str, typer.Option(help="half: a tie is half a win each; ignore: ties are left out.")] = "half",
    both_bad: Annotated[str, typer.Option(help="tie: both_bad counts as a tie; ignore: it is dropped.")] = "tie",
    bootstrap: Annotated[int, typer.Option(help="Resamples for 95% intervals (0: none).", min=0)] = 0,
    sandwich: Annotated[
        bool, typer.Option("--sandwich", help="Bradley-Terry: 95% intervals from the robust (sandwich) covariance.")
    ] = False,
    style: Annotated[
        bool,
        typer.Option(
            "--style",
            help="Style control: fit ratings with the battles' length, header, list and bold differences "
            "(from response_a/response_b or conversation_a/conversation_b), as LMArena does.",
        ),
    ] = False,
    features: Annotated[
        str | None, typer.Option(help="Style control on numeric columns you name, comma-separated (with or without --style).")
    ] = None,
    style_reg: Annotated[
        float,
        typer.Option(help="L2 penalty on the style coefficients, per battle (arena-rank's default: 1.0, which "
                     "shrinks them about 6-fold).", min=0.0),
    ] = 1e-3,
    reweight: Annotated[
        bool, typer.Option("--reweight", help="Style control: weight battles by 1/(pair frequency), as arena-rank does.")
    ] = False,
    anchor: Annotated[
        str | None,
        typer.Option(help="NAME or NAME=RATING: pin this player's rating (default 1000, or 0 with --scale raw); "
                     "adds each player's predicted win rate against it."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and of Elo's shuffles.")] = 0,
    prior: Annotated[
        float, typer.Option(help="Bradley-Terry prior, in virtual games against an average player.", min=0.0)
    ] = 0.0,
    scale: Annotated[str, typer.Option(help="elo: 1000 + 400 log10(strength); raw: log-strength.")] = "elo",
    k: Annotated[float, typer.Option(help="Elo K factor (above 0).", min=1e-9)] = 4.0,
    shuffles: Annotated[int, typer.Option(help="Elo: battle orders averaged.", min=1)] = 100,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the leaderboard: .json or .csv.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report with plots.")] = None,
    show: Annotated[int, typer.Option(help="Rows to print.", min=1)] = 20,
) -> None:
    """Rank players from battle records, with intervals and a report."""
    for path in (out_path, report):
        _check_writable(path)
    from judgerank.arena import arena as run_arena
    from judgerank.io.battles import read_battles

    for name, value, allowed in (
        ("--ties", ties, ("half", "ignore")),
        ("--both-bad", both_bad, ("tie", "ignore")),
        ("--scale", scale, ("elo", "raw")),
    ):
        if value not in allowed:
            raise JudgerankError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    names = tuple(f.strip() for f in features.split(",") if f.strip()) if features is not None else ()
    if features is not None and not names:
        raise JudgerankError("--features needs column names, comma-separated")
    anchor_name, anchor_rating = _anchor(anchor)
    data = read_battles(battles, both_bad=both_bad, features=names, style=style)  # type: ignore[arg-type]
    board = run_arena(
        data.battles, method, ties=ties, bootstrap=bootstrap, sandwich=sandwich, seed=seed,  # type: ignore[arg-type]
        prior=prior, scale=scale, k=k, shuffles=shuffles,  # type: ignore[arg-type]
        covariates=data.rows_with_covariates, reg=style_reg, reweight=reweight, anchor=anchor_name,
        anchor_rating=anchor_rating,
    )
    board.notes.extend(data.notes)
    if data.self_battles:
        board.notes.append(f"{data.self_battles} self-battles (a player against itself) were left out")
    if data.dropped_both_bad:
        board.notes.append(f"{data.dropped_both_bad} both_bad battles were dropped")
    has_ci = board.rows[0].lower is not None
    vs = (f"vs {anchor_name}",) if anchor_name else ()
    styled = " (style-controlled)" if board.coefficients else ""
    table = Table(title=f"{method}{styled}: {len(board.rows)} players, {data.rows} battles read")
    for col in ("rank", "player", "rating", *(("95% interval",) if has_ci else ()), "battles", "win rate", *vs):
        if col == "player":
            table.add_column(col, overflow="ellipsis", no_wrap=True, max_width=max(12, out.width - 60))
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for r in board.rows[:show]:
        ci = (f"{r.lower:.1f} – {r.upper:.1f}",) if has_ci else ()
        rate = "–" if r.win_rate is None else f"{r.win_rate:.3f}"
        against = (f"{r.vs_anchor:.3f}",) if anchor_name and r.vs_anchor is not None else ("–",) * len(vs)
        table.add_row(str(r.rank), r.player, f"{r.rating:.2f}", *ci, str(r.battles), rate, *against)
    out.print(table)
    if board.coefficients:
        coef = Table(title="covariates: effect on the log-odds of winning, per standard deviation")
        for col in ("covariate", "coefficient", *(("95% interval",) if has_ci else ())):
            coef.add_column(col, justify="left" if col == "covariate" else "right", no_wrap=True)
        for c in board.coefficients:
            span = (f"{c.lower:+.3f} – {c.upper:+.3f}",) if has_ci and c.lower is not None and c.upper is not None else ()
            coef.add_row(c.name, f"{c.value:+.4f}", *span)
        out.print(coef)
    for note in board.notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)
    if out_path:
        _write_leaderboard(board, out_path)
        err.print(f"wrote {out_path}")
    if report:
        from judgerank.report import write_report

        write_report(board, report, source=str(battles))
        err.print(f"wrote {report}")
    err.print(f"{method} in {board.seconds:.2f} s")


@app.command()
def swiss(
    battles: Annotated[Path, typer.Argument(help="The tournament's games so far: CSV or JSONL with model_a, model_b, "
                                                 "winner.")],
    rounds: Annotated[int, typer.Option(help="Rounds the tournament has in all.", min=1)],
    simulations: Annotated[int, typer.Option(help="Continuations simulated per estimate.", min=1)] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the simulations.")] = 0,
    show: Annotated[int, typer.Option(help="Rows to print.", min=1)] = 20,
) -> None:
    """Where a Swiss tournament is heading: each player's expected final score over simulated
    continuations (each game won with the Bradley-Terry probability of the games so far), and
    the next round's pairings, the one whose result moves the expected scores most first.
    Players are seeded by their current Bradley-Terry strength."""
    import numpy as np

    from judgerank.aggregate.bradley_terry import bradley_terry
    from judgerank.io.battles import read_battles
    from judgerank.strategies.tournament import Swiss, swiss_outlook

    data = read_battles(battles, both_bad="tie")
    b = data.battles
    if b.total != int(b.total) or np.any(b.count != np.rint(b.count)):
        raise JudgerankError(f"{battles}: a tournament's games count one each; weighted rows cannot be replayed")
    games = [(b.players[x], b.players[y], float(o)) for x, y, o, c in zip(b.a, b.b, b.outcome, b.count)
             for _ in range(int(c))]
    strength = bradley_terry(b.win_matrix(), prior=1.0)
    seeded = [b.players[i] for i in np.argsort(-strength, kind="stable")]
    outlook = swiss_outlook(Swiss(seeded), games, rounds, simulations=simulations, seed=seed)
    table = Table(title=f"Swiss: {len(seeded)} players, {outlook.played} of {rounds} rounds played, "
                        f"{simulations} simulated continuations")
    for col in ("rank", "player", "score", "expected final"):
        table.add_column(col, justify="left" if col == "player" else "right")
    ranked = sorted(seeded, key=lambda p: (-outlook.expected[p], -outlook.scores[p]))
    for n, p in enumerate(ranked[:show], 1):
        table.add_row(str(n), p, f"{outlook.scores[p]:g}", f"{outlook.expected[p]:.2f}")
    out.print(table)
    if outlook.next_round:
        nxt = Table(title="next round: the pairing whose result matters most first")
        for col in ("pairing", "P(first wins)", "impact"):
            nxt.add_column(col, justify="left" if col == "pairing" else "right")
        for g in outlook.next_round[:show]:
            nxt.add_row(f"{g.a} vs {g.b}", f"{g.p_a:.2f}", f"{g.impact:.2f}")
        out.print(nxt)
        err.print("impact: the expected total change of the expected final scores once that game is decided")
    else:
        err.print("the tournament is over: expected final scores are the scores")


@app.command()
def winrate(
    judged: Annotated[
        Path,
        typer.Argument(help="AlpacaEval annotations (generator_1/2, output_1/2, preference) or battles with "
                       "response_a/response_b texts, JSON or JSONL."),
    ],
    baseline: Annotated[str, typer.Option(help="The model every other is compared with (AlpacaEval 2: gpt4_1106_preview).")],
    difficulty: Annotated[
        Path | None, typer.Option(help="CSV: instruction key (index or text), difficulty. Default: estimated from the file.")
    ] = None,
    gamed: Annotated[
        Path | None,
        typer.Option(help="AlpacaEval's df_gamed.csv: the baseline against verbose/concise selves, which regularises "
                     "each model's length slope (and carries the difficulty)."),
    ] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the table as .json or .csv.")] = None,
) -> None:
    """Win rates against a baseline, raw and length-controlled (AlpacaEval 2's GLM)."""
    _check_writable(out_path)
    from judgerank.io.annotations import read_difficulty, read_gamed, read_judged
    from judgerank.length_control import length_controlled_win_rates

    data = read_judged(judged, baseline)
    gamed_rows, keys = read_gamed(gamed) if gamed else ([], None)
    table_of = read_difficulty(difficulty) if difficulty else keys
    rates = length_controlled_win_rates(data.rows, baseline, table_of, gamed_rows)
    table = Table(title=f"win rate against {baseline}: {len(rates)} models, {len(data.rows)} judged instructions",
                  caption="LC: length-controlled (the judge's preference had the outputs been equally long); "
                  "length slope < 0: longer than the baseline's wins more", caption_justify="left")
    for col in ("rank", "model", "n", "win rate", "LC win rate", "length slope"):
        if col == "model":
            table.add_column(col, overflow="ellipsis", no_wrap=True, max_width=max(12, out.width - 62))
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for rank, w in enumerate(rates, 1):
        table.add_row(str(rank), w.model, str(w.n), f"{w.win_rate:.2f} ± {w.standard_error:.2f}",
                      f"{w.lc_win_rate:.2f} ± {w.lc_standard_error:.2f}", f"{w.length_coefficient:+.3f}")
    out.print(table)
    if data.without_baseline:
        err.print(f"note: {data.without_baseline} records without {baseline} on one side were left out", markup=False)
    if data.undecided:
        err.print(f"note: {data.undecided} records without a preference were left out", markup=False)
    if table_of is None:
        err.print("note: instruction difficulty estimated from these judgments (give --difficulty or --gamed for "
                  "AlpacaEval's)", markup=False)
    if out_path:
        _write_rows([w.as_dict() for w in rates], out_path)
        err.print(f"wrote {out_path}")


def _write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    import csv

    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            if path.suffix == ".csv":
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            else:
                json.dump(rows, fh, indent=1)
    except OSError as exc:
        raise JudgerankError(f"{path}: cannot write ({exc.strerror})") from exc


def _anchor(spec: str | None) -> tuple[str | None, float | None]:
    """--anchor NAME or NAME=RATING."""
    if spec is None:
        return None, None
    name, sep, value = spec.rpartition("=") if "=" in spec else (spec, "", "")
    if not sep:
        return spec, None
    try:
        rating = float(value)
    except ValueError:
        raise JudgerankError(f"--anchor {spec!r}: the rating after '=' must be a number") from None
    if not name or not math.isfinite(rating):
        raise JudgerankError(f"--anchor {spec!r}: use NAME or NAME=RATING with a finite rating")
    return name, rating


def _write_leaderboard(board, path: Path) -> None:
    import csv
    from dataclasses import asdict

    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            if path.suffix == ".csv":
                writer = csv.DictWriter(fh, fieldnames=list(asdict(board.rows[0])))
                writer.writeheader()
                writer.writerows(asdict(r) for r in board.rows)
            else:
                json.dump(board.as_dict(), fh, indent=1)
    except OSError as exc:
        raise JudgerankError(f"{path}: cannot write ({exc.strerror})") from exc


@app.command()
def judge(
    input: Annotated[
        Path,
        typer.Argument(
            help="JSONL or JSON list: {prompt, responses:[{id,text}]} to rank, or pairs {input, output_1, output_2, label}."
        ),
    ],
    mode: Annotated[
        str,
        typer.Option(
            help="pairwise: verdicts between responses; pointwise: a 1-5 rubric rating each. "
            "Pairs files get both, to compare; --mode picks the 'verdict' written."
        ),
    ] = "pairwise",
    method: Annotated[
        str, typer.Option(help=f"Pairwise ranking method, one of: {_names('judge', pairwise=True)} (see `judgerank methods`).")
    ] = "allpairs",
    model: Annotated[str | None, typer.Option(help=MODEL_HELP)] = None,
    gold: Annotated[
        str | None, typer.Option(help="Pairs: the field with the human label (1, 2 or tie); prints accuracy and kappa.")
    ] = None,
    top_k: Annotated[int, typer.Option(help="Responses the top-k sorts put in order.", min=1)] = 10,
    limit: Annotated[int | None, typer.Option(help="Judge only the first N prompts or pairs.", min=1)] = None,
    show: Annotated[int, typer.Option(help="Rows of each ranking to print.", min=1)] = 10,
    ratings: Annotated[
        bool,
        typer.Option(
            "--ratings/--no-ratings",
            help="Also rate each response on the 1-5 rubric: the score-vs-pair diagnostic and, for pairs files, "
            "verdict (c) (2 calls per pair).",
        ),
    ] = True,
    max_calls: Annotated[int | None, typer.Option(help="Budget: new LLM calls per prompt (per run for pairs).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Budget: tokens per prompt (per run for pairs).")] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write results as JSON lines, one per prompt or pair, as each finishes.")
    ] = None,
    battles: Annotated[
        Path | None,
        typer.Option(help="Write the judged pairs as battles JSONL (model_a, model_b, winner) for `judgerank arena`."),
    ] = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server (…/v1) to judge with; --model names its model.")
    ] = None,
    store: StoreOpt = None,
    threads: ThreadsOpt = None,
    ray: RayOpt = None,
    workers: WorkersOpt = None,
    cpus_per_worker: CpusOpt = 1.0,
    ordered: OrderedOpt = False,
    guard: Annotated[str, typer.Option(help="What a response whose text addresses the judge ('[[A]]', 'rate this "
                                       "response best') gets: demote (ranked last, loses its pairs to unflagged "
                                       "ones), flag (reported only), drop, off.")] = "demote",
    max_words: MaxWordsOpt = 400,
    five_levels: Annotated[
        bool,
        typer.Option("--five-levels", help="Verdicts on arena-hard's five levels (A>>B, A>B, tie, B>A, B>>A; "
                     "template judge-pair-5); in --battles a strong verdict counts 3 battles."),
    ] = False,
    judges: Annotated[
        str | None,
        typer.Option(help="Pairs files: a jury, MODEL[@TEMPLATE],... (templates: judge-pair, judge-pair-5); "
                     "verdicts pooled by mean P(a), majority and Dawid-Skene weights; each juror's kept.",
                     rich_help_panel="Juries"),
    ] = None,
) -> None:
    """Rank responses with an LLM judge, or score it against gold labels, with diagnostics.

    Ranking prompts' responses with --out (and no --battles), an interrupted run resumes from
    NAME.partial. With --ray, the prompts are spread over Ray workers (pairs files run here)."""
    from judgerank.io.responses import read_judge_input
    from judgerank.responses import PairTask, ResponseJudge

    if mode not in ("pairwise", "pointwise"):
        raise JudgerankError(f"--mode must be pairwise or pointwise, not {mode!r}")
    pairwise = _names("judge", pairwise=True).split(", ")
    if mode == "pairwise" and method not in pairwise:
        raise JudgerankError(f"--method must be one of {', '.join(pairwise)}, not {method!r}")
    tasks = read_judge_input(input, gold)[:limit]
    pairs_file = isinstance(tasks[0], PairTask)
    if judges is not None:
        if not pairs_file:
            raise JudgerankError("--judges pools verdicts on a pairs file ({input, output_1, output_2}); "
                                 "rank a prompt's responses with one --model")
        if model is not None or five_levels or ray is not None or mode != "pairwise":
            raise JudgerankError("--judges names every juror (MODEL[@TEMPLATE]); leave out --model, --five-levels, "
                                 "--mode and --ray")
        _judge_jury(judges, tasks, _runtime(cache, no_cache, base_url, store, threads), ratings, max_words,
                    _budget(max_calls, max_tokens), guard, out_path, battles)
        return
    if ray is not None and pairs_file:
        raise JudgerankError("--ray spreads the ranking of prompts' responses; a pairs file is judged in one process "
                             "(leave out --ray)")
    runtime = _runtime(cache, no_cache, base_url, store, threads)
    judge_ = ResponseJudge(
        model,
        method="pointwise" if mode == "pointwise" else method,
        top_k=top_k,
        ratings=ratings,
        budget=_budget(max_calls, max_tokens),
        runtime=runtime,
        guard=guard,
        max_words=max_words,
        template="judge-pair-5" if five_levels else "judge-pair",
    )
    cluster = _cluster(ray, workers, cpus_per_worker, ordered) if ray is not None else None  # joined now: errors first
    resume = _query_of_json if not pairs_file and battles is None else None
    sink, battle_sink = Output(out_path, resume=resume, method=judge_.method.name), Output(battles)
    if sink.done:
        tasks = [t for t in tasks if t[0].id not in sink.done]  # type: ignore[index,assignment]  # prompts: (query, responses)
    if ray is not None:
        spec = _job_spec("judge", judge_.method.name, model, base_url, runtime, threads, cpus_per_worker,
                         _budget(max_calls, max_tokens), {"top_k": top_k, "ratings": ratings, "guard": guard,
                                                          "max_words": max_words, "template": judge_.template})

        def record(n: int, record: dict[str, Any]) -> None:
            sink.record(record)
            for battle in _battles_of(record):
                battle_sink.record(battle)
            if out_path is None:
                print(json.dumps(record), flush=True)

        _on_ray(tasks, spec, cluster, sink, out_path, ("prompt", "prompts"), record)
        battle_sink.finish()
        return
    done: list[Any] = []
    try:
        if isinstance(tasks[0], PairTask):
            _judge_pairs(judge_, tasks, mode, sink, battle_sink, done)
        else:
            _judge_rankings(judge_, tasks, sink, battle_sink, done, show)
    except KeyboardInterrupt:
        what = "pairs" if isinstance(tasks[0], PairTask) else "prompts"
        raise Interrupted(_interrupted(len(done), len(tasks), what, sink, runtime)) from None
    for handle in (sink, battle_sink):
        handle.finish()
        if handle.path:
            err.print(f"wrote {handle.path}")


def _judge_rankings(judge_: Any, tasks: Any, sink: Output, battle_sink: Output, results: list[Any], show: int) -> None:
    from judgerank.responses import merged_diagnostics

    total, incomplete = Costs(), 0
    tally = FlagTally(judge_.options.guard)
    with ACTIVITY.showing("judging", len(tasks)) as activity:
        for query, responses in tasks:
            result = judge_.rank(query, responses)
            results.append(result)
            tally.add(f"prompt {query.id}", result.ranking.flags)
            total.add(result.ranking.costs)
            incomplete += not result.ranking.complete
            record = result.as_dict()
            sink.record(record)
            for battle in _battles_of(record):
                battle_sink.record(battle)
            if sink.path is None or len(tasks) == 1:
                _show_judged(result, query, responses, show, judge_.method)
            activity.advance(f"judging (prompt {query.id}, {total.calls} calls)")
    _print_diagnostics(merged_diagnostics(results).as_dict())
    tally.report()
    _print_costs(total, len(results), incomplete, unit=("prompt", "prompts"))


def _battles_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Battle rows from a judged prompt's pairs."""
    return [{"prompt_id": record["prompt_id"], "model_a": p["a"], "model_b": p["b"], **_battle_result(p)}
            for p in record["pairs"]]


def _battle_result(pair: dict[str, Any]) -> dict[str, Any]:
    """The winner by the probability from both orders; a five-level judge's most likely verdict,
    with a strong one (a>>b, b>>a) weighing 3 battles, as arena-hard counts them."""
    level = pair.get("five_level")
    if level is not None:
        winner = "model_a" if level.startswith("a") else "model_b" if level.startswith("b") else "tie"
        return {"winner": winner, **({"weight": 3} if ">>" in level else {})}
    p_a = pair["p_a"]
    return {"winner": "model_a" if p_a > 0.5 else "model_b" if p_a < 0.5 else "tie"}


def _show_judged(result: Any, query: Any, responses: Any, rows: int, method: Any) -> None:
    """A table when stdout is a terminal; else the result as one JSON line."""
    if not out.is_terminal:
        print(json.dumps(result.as_dict()), flush=True)
        return
    texts = {i.id: i.text for i in responses}
    r = result
    table = Table(title=f"{query.text[:80]}  [{r.ranking.method}]", caption=f"score: {method.score}; rating: "
                  "expected 1-5 rubric rating", caption_justify="left")
    for col in ("rank", "id", "score", "rating", "text"):
        table.add_column(col, justify="left" if col in ("id", "text") else "right", no_wrap=True,
                         overflow="ellipsis", max_width=max(20, out.width - 50) if col == "text" else None)
    for n, (rid, score) in enumerate(zip(r.ranking.ids[:rows], r.ranking.scores[:rows]), 1):
        rating = f"{float(r.ratings[rid] @ r.levels):.2f}" if rid in r.ratings else "-"
        shown = f"{score:.3f}" if score is not None else ("not judged" if not r.ranking.complete else "-")
        table.add_row(str(n), rid, shown, rating, texts[rid])
    out.print(table)
    for note in r.notes:
        err.print(f"note: {note}", markup=False)


@app.command("judge-eval")
def judge_eval(
    pairs: Annotated[Path, typer.Argument(help="Labelled pairs: JSON or JSONL {input, output_1, output_2, label}.")],
    judges: Annotated[
        str, typer.Option(help="The judges to grade, MODEL[@TEMPLATE],... (one or more); more than one are also "
                          "pooled as a jury.")
    ],
    gold: Annotated[str, typer.Option(help="The field with the human label (1, 2, tie, A>B, ...).")] = "label",
    report: Annotated[Path | None, typer.Option(help="Write the report card as HTML with its plots.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the cards as JSON.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N pairs.", min=1)] = None,
    max_calls: Annotated[int | None, typer.Option(help="Budget: new LLM calls per judge.")] = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server (…/v1) serving the judges' models.")
    ] = None,
    store: StoreOpt = None,
    threads: ThreadsOpt = None,
    max_words: MaxWordsOpt = 400,
) -> None:
    """Grade judges on labelled pairs: accuracy and kappa, position consistency, length bias,
    calibration of P(A), agreement between judges, cost per judgment."""
    for path in (report, out_path):
        _check_writable(path)
    from judgerank.evaluate.report_card import jury_cards, kappa_matrix
    from judgerank.io.responses import read_judge_input
    from judgerank.jury import Jury, parse_jurors
    from judgerank.responses import PairTask

    jurors = parse_jurors(judges, minimum=1)
    tasks = read_judge_input(pairs, gold)[:limit]
    if not isinstance(tasks[0], PairTask):
        raise JudgerankError(f"{pairs}: judge-eval needs labelled pairs ({{input, output_1, output_2, {gold}}})")
    runtime = _runtime(cache, no_cache, base_url, store, threads)
    for juror in jurors:
        runtime.check(juror.model)
    jury = Jury(jurors, runtime=runtime, ratings=False, max_words=max_words, budget=_budget(max_calls, None))
    with ACTIVITY.showing("judging", len(tasks) * len(jurors)) as activity:
        try:
            result = jury.judge_pairs(tasks, lambda name, n: activity.advance(f"judging ({name}: {n} pairs)"))
        except KeyboardInterrupt:
            raise Interrupted("interrupted: every judgment that came back is in the judgment store; run the same "
                              "command again to finish at no cost for those") from None
    cards = jury_cards(result)
    if not cards:
        raise JudgerankError("no judge returned a verdict: see the failures above")
    ties = any(c.agreement and c.agreement.gold_ties for c in cards)
    humans = next((c.gold_longer_preferred for c in cards if c.gold_longer_preferred is not None), None)
    table = Table(title=f"report card: {len(result.pairs)} labelled pairs",
                  caption="acc, κ: against gold, verdict from both orders (2w: decisive gold pairs; 3w: ties a class); "
                  "pos: position consistency; longer: share of decisive verdicts for the longer response (humans: "
                  f"{'–' if humans is None else f'{humans:.2f}'}); cost: calls and seconds per pair (cache hits are "
                  "free); JSON and HTML (--out, --report) hold every figure", caption_justify="left")
    columns = ["judge", "acc 2w", "κ 2w", *(("acc 3w", "κ 3w") if ties else ()), "pos", "longer", "Brier", "cost"]
    for col in columns:
        if col == "judge":
            table.add_column(col, no_wrap=True, overflow="ellipsis", max_width=max(16, out.width - 14 * len(columns)))
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))

    def f(x: float | None, spec: str = ".2f") -> str:
        return "–" if x is None else format(x, spec)

    for c in cards:
        a = c.agreement
        three = (f(a.accuracy_3way if a else None), f(a.kappa_3way if a else None)) if ties else ()
        cost = "–" if c.calls_per_pair is None else f"{c.calls_per_pair:.1f}, {f(c.seconds_per_pair)}s"
        table.add_row(c.name, f(a.accuracy_2way if a else None), f(a.kappa_2way if a else None), *three,
                      f(c.position_consistency), f(c.longer_preferred), f(c.brier, ".3f"), cost)
    out.print(table)
    verdicts = {name: {j.task.id: j.probability for j in result.judgments_of(name)} for name in result.jurors}
    kappas = kappa_matrix(verdicts)
    notes = [f"juror {name} {why}" for name, why in result.failures.items()]
    if result.fleiss_kappa is not None:
        pairs_of = [f"{x} / {y} {kappas[1][i, j]:.2f}" for i, x in enumerate(kappas[0]) for j, y in enumerate(kappas[0])
                    if j < i]
        notes.append(f"Fleiss' kappa between the judges' verdicts: {result.fleiss_kappa:.3f}; Cohen's kappa by "
                     f"pair: {'; '.join(pairs_of)}")
    for note in notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)
    if out_path:
        payload = {"pairs": len(result.pairs), "cards": [c.as_dict() for c in cards], "fleiss_kappa": result.fleiss_kappa,
                   "judge_kappa": {"judges": kappas[0], "kappa": kappas[1].tolist()}, "failures": result.failures}
        try:
            out_path.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        except OSError as exc:
            raise JudgerankError(f"{out_path}: cannot write ({exc.strerror})") from exc
        err.print(f"wrote {out_path}")
    if report:
        from judgerank.judge_report import write_judge_report

        write_judge_report(cards, kappas, report, source=str(pairs), notes=notes)
        err.print(f"wrote {report}")


def _judge_jury(spec: str, tasks: Any, runtime: Any, ratings: bool, max_words: int, budget: Any, guard: str,
                out_path: Path | None, battles: Path | None) -> None:
    """A jury over a pairs file: rows written once the pooled verdicts are in (every judgment is
    in the store as it comes back, so an interrupted run costs nothing to redo)."""
    from judgerank.jury import POOLED_RULES, Jury, parse_jurors, pooled_agreement
    from judgerank.responses import gold_agreement

    jurors = parse_jurors(spec)
    for juror in jurors:
        runtime.check(juror.model)
    jury = Jury(jurors, runtime=runtime, ratings=ratings, max_words=max_words, budget=budget, guard=guard)
    sink, battle_sink = Output(out_path), Output(battles)
    with ACTIVITY.showing("jury", len(tasks) * len(jurors)) as activity:
        try:
            result = jury.judge_pairs(tasks, lambda name, n: activity.advance(f"jury ({name}: {n} pairs)"))
        except KeyboardInterrupt:
            raise Interrupted("interrupted: every judgment that came back is in the judgment store; run the same "
                              "command again to finish at no cost for those") from None
    for pair in result.pairs:
        row = pair.as_dict()
        sink.record(row)
        if out_path is None and not out.is_terminal:
            print(json.dumps(row), flush=True)
        winner = {"a": "model_a", "b": "model_b", "tie": "tie"}[pair.weighted or pair.mean]
        battle_sink.record({"prompt_id": pair.task.id, "model_a": "output_1", "model_b": "output_2", "winner": winner})
    if result.pairs and all(p.task.gold is not None for p in result.pairs):
        rows = {}
        for name in result.jurors:
            mine = result.judgments_of(name)
            if mine:
                rows.update({f"{name}: {rule}": a for rule, a in gold_agreement(mine).items() if rule != "naive"})
        rows.update({POOLED_RULES[rule]: a for rule, a in pooled_agreement(result).items()})
        _print_agreement(rows, len(result.pairs), title=f"jury of {len(jurors)}: agreement with {len(result.pairs)} "
                         "gold labels")
    kappa = "–" if result.fleiss_kappa is None else f"{result.fleiss_kappa:.3f}"
    weights = ", ".join(f"{n} {w:.2f}" for n, w in result.juror_weight.items())
    err.print(f"inter-judge agreement (Fleiss' kappa over verdicts (b)): {kappa}; each juror's accuracy as "
              f"Dawid-Skene estimates it without gold (below 0.5: read backwards): {weights}", soft_wrap=True,
              markup=False)
    for name, why in result.failures.items():
        err.print(f"juror {name} {why}; the pooled verdicts use the others there", soft_wrap=True, markup=False)
    for name, costs in result.costs.items():
        err.print(f"{name}: ", end="", markup=False)
        _print_costs(costs, len(result.judgments_of(name)), 0, unit=("pair", "pairs"))
    for handle in (sink, battle_sink):
        handle.finish()
        if handle.path:
            err.print(f"wrote {handle.path}")


def _judge_pairs(judge_: Any, tasks: Any, mode: str, sink: Output, battle_sink: Output, done: list[Any]) -> None:
    from judgerank.accounting import Ledger
    from judgerank.errors import BudgetExhausted
    from judgerank.responses import gold_agreement, pair_diagnostics

    ledger = Ledger(judge_.budget)
    stopped = False
    tally = FlagTally(judge_.options.guard)
    with ACTIVITY.showing("judging pairs", len(tasks)) as activity:
        try:
            for j in judge_.judge_pairs(tasks, ledger):
                done.append(j)
                tally.add(f"pair {j.task.id}", {k: f for k, f in (("output_1", j.flags_a), ("output_2", j.flags_b)) if f})
                row = j.as_dict()
                row["verdict"] = j.pointwise if mode == "pointwise" else j.probability
                sink.record(row)
                if sink.path is None and not out.is_terminal:
                    print(json.dumps(row), flush=True)
                result = (_battle_result(row) if "five_level" in row
                          else {"winner": {"a": "model_a", "b": "model_b", "tie": "tie"}[row["verdict"]]})
                battle_sink.record({"prompt_id": j.task.id, "model_a": "output_1", "model_b": "output_2", **result})
                activity.advance("judging pairs")
        except BudgetExhausted:
            stopped = True
    costs = ledger.close()
    if done and done[0].task.gold is not None:
        _print_agreement(gold_agreement(done), len(done))
    if done:
        _print_diagnostics(pair_diagnostics(done).as_dict())
    tally.report()
    _print_costs(costs, len(done), int(stopped), unit=("pair", "pairs"))


def _print_agreement(table_of: dict[str, Any], pairs: int, title: str | None = None) -> None:
    """Accuracy and kappa per verdict rule, 2-way and 3-way (see judgerank.evaluate.ties)."""
    from judgerank.responses import VERDICT_RULES

    ties = next(iter(table_of.values())).gold_ties
    table = Table(title=title or f"agreement with {pairs} gold labels ({ties} ties)",
                  caption="2-way: pairs with a decisive gold label, a tie verdict counts wrong; 3-way: every pair, "
                  "tie its own class, (b) and (c) with a tie region cross-fitted on the labels (5 folds)",
                  caption_justify="left")
    for col in ("verdict", "2-way acc", "2-way κ", "3-way acc", "3-way κ"):
        if col == "verdict":
            table.add_column(col, no_wrap=True, overflow="ellipsis", min_width=26, max_width=max(26, out.width - 52))
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))

    def f(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    for rule, a in table_of.items():
        table.add_row(VERDICT_RULES.get(rule, rule), f(a.accuracy_2way), f(a.kappa_2way), f(a.accuracy_3way),
                      f(a.kappa_3way))
    out.print(table)


def _print_diagnostics(d: dict) -> None:
    def pct(x):
        return "–" if x is None else f"{100 * x:.1f}%"

    err.print(
        f"diagnostics over {d['pairs']} pairs: position consistency {pct(d['position_consistency'])}, "
        f"naive ties {pct(d['naive_tie_rate'])}, mean P(tie) {pct(d['mean_p_tie'])}; "
        f"score-vs-pair conflicts naive {pct(d['naive_score_inconsistency'])} / probabilistic "
        f"{pct(d['probability_score_inconsistency'])}; intransitive triads ({d['triads']}) naive "
        f"{pct(d['naive_intransitive_rate'])} / probabilistic {pct(d['probability_intransitive_rate'])}",
        soft_wrap=True,
        markup=False,
    )


# what `serve` and `mcp` share: the models, method and limits of the service they run
ServeModel = Annotated[
    str | None, typer.Option(help="Default model: a named model or GGUF path (embedded default if unset).")
]
ServeModels = Annotated[
    str,
    typer.Option(
        help="Comma-separated further models a request may ask for "
        "(named models, GGUF paths, or with --base-url names that server serves)."
    ),
]
ServeMethod = Annotated[str | None, typer.Option(help="Default rerank method.")]
ApiKeysFile = Annotated[
    Path | None, typer.Option(help="File of API keys, one per line (also: JUDGERANK_API_KEYS, comma-separated).")
]
MaxDocuments = Annotated[int, typer.Option(help="Most documents (or responses) per request.", min=1)]
MaxDocumentChars = Annotated[int, typer.Option(help="Most characters per document.", min=1)]
Concurrency = Annotated[int, typer.Option(help="With --base-url: most requests in flight to that server.", min=1)]
MaxCalls = Annotated[int, typer.Option(help="Ceiling on any request's new LLM calls (a request may ask for fewer; "
                                           "0 serves only stored judgments).", min=0)]
ServeCache = Annotated[Path | None, typer.Option(help="Judgment cache shared by all requests (SQLite).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="No judgment cache.")]
ServeBaseUrl = Annotated[
    str | None, typer.Option(help="Judge with an OpenAI-compatible server (…/v1); --model names its model.")
]


def _server_config(
    model: str | None, models: str, method: str | None, api_keys_file: Path | None, max_documents: int,
    max_document_chars: int, max_calls: int | None, cache: Path | None, no_cache: bool, base_url: str | None,
    concurrency: int, **more: Any,
) -> Any:
    """The service's configuration from the command line; API keys from the file and the environment."""
    from judgerank.engine import DEFAULT_METHOD
    from judgerank.server.service import ServerConfig

    keys = {k.strip() for k in os.environ.get("JUDGERANK_API_KEYS", "").split(",") if k.strip()}
    if api_keys_file is not None:
        try:
            keys |= {line.strip() for line in api_keys_file.read_text().splitlines() if line.strip()}
        except OSError as exc:
            raise JudgerankError(f"{api_keys_file}: cannot read ({exc.strerror})") from exc
    return ServerConfig(
        model=model,
        models=tuple(m.strip() for m in models.split(",") if m.strip()),
        method=method or DEFAULT_METHOD,
        api_keys=frozenset(keys),
        max_documents=max_documents,
        max_document_chars=max_document_chars,
        max_calls=max_calls,
        cache=_store_spec(cache, None, no_cache),
        base_url=base_url,
        concurrency=concurrency,
        **more,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=0, max=65535)] = 8000,
    model: ServeModel = None,
    models: ServeModels = "",
    method: ServeMethod = None,
    api_keys_file: ApiKeysFile = None,
    max_documents: MaxDocuments = 1000,
    max_document_chars: MaxDocumentChars = 20_000,
    max_in_flight: Annotated[int, typer.Option(help="Most requests in flight; more get 429.", min=1)] = 64,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body in bytes; a larger one gets 413.",
                                                min=1)] = 4_000_000,
    concurrency: Concurrency = 8,
    max_calls: MaxCalls = 2000,
    cache: ServeCache = None,
    no_cache: NoCache = False,
    base_url: ServeBaseUrl = None,
) -> None:
    """Serve /v1/rerank (Cohere/Jina shape; also /v2/rerank and /rerank), /v1/judge, /v1/arena,
    /healthz and /metrics over HTTP."""
    try:
        import uvicorn

        from judgerank.server.app import create_app
    except ImportError as exc:
        raise JudgerankError(f"judgerank serve needs the [server] extra: pip install 'judgerank[server]' ({exc})") from None
    config = _server_config(model, models, method, api_keys_file, max_documents, max_document_chars, max_calls, cache,
                            no_cache, base_url, concurrency, max_in_flight=max_in_flight,
                            max_body_bytes=max_body_bytes)
    application = create_app(config)  # checks every model before the port is taken
    _check_port(host, port)
    err.print(f"judgerank serving on http://{host}:{port} ({'API keys required' if config.api_keys else 'no API keys'})")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def mcp(
    transport: Annotated[str, typer.Option(help="stdio (an agent starts this command) or http (streamable HTTP at /mcp).")
                         ] = "stdio",
    host: Annotated[str, typer.Option(help="With --transport http: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --transport http: port.", min=0, max=65535)] = 8001,
    model: ServeModel = None,
    models: ServeModels = "",
    method: ServeMethod = None,
    api_keys_file: ApiKeysFile = None,
    max_documents: MaxDocuments = 1000,
    max_document_chars: MaxDocumentChars = 20_000,
    concurrency: Concurrency = 8,
    max_calls: MaxCalls = 2000,
    cache: ServeCache = None,
    no_cache: NoCache = False,
    base_url: ServeBaseUrl = None,
) -> None:
    """Serve the tools rerank, judge and arena to agents over the Model Context Protocol.

    The tools take the HTTP service's request bodies; limits and API keys are as for serve."""
    if transport not in ("stdio", "http"):
        raise JudgerankError(f"--transport must be one of stdio, http, not {transport!r}")
    from judgerank.adapters.compat import require

    require("mcp")  # one line naming the extra, not an import traceback
    from judgerank.server import mcp as mcp_server

    config = _server_config(model, models, method, api_keys_file, max_documents, max_document_chars, max_calls, cache,
                            no_cache, base_url, concurrency)
    if transport == "stdio":
        import anyio

        anyio.run(mcp_server.serve_stdio, config)  # stdout is the protocol's: nothing else is printed there
        return
    try:
        import uvicorn
    except ImportError as exc:
        raise JudgerankError(f"judgerank mcp --transport http needs uvicorn: pip install 'judgerank[server]' ({exc})") from None
    application, service = mcp_server.http_app(config, host)  # checks every model before the port is taken
    _check_port(host, port)
    err.print(f"judgerank MCP on http://{host}:{port}/mcp ({'API keys required' if config.api_keys else 'no API keys'})")
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning")
    finally:
        service.close()


@app.command()
def methods() -> None:
    """List the ranking methods: the jobs each serves, what it needs, its options, what its
    score means and what a ranking cut short by a budget holds."""
    from judgerank.methods import DEFAULT_JUDGE_METHOD, DEFAULT_RERANK_METHOD, METHODS

    defaults = {DEFAULT_RERANK_METHOD: "rerank", DEFAULT_JUDGE_METHOD: "judge"}
    for m in METHODS.values():
        mark = f" (default for {defaults[m.name]})" if m.name in defaults else ""
        opts = ", ".join("--" + o.replace("_", "-") for o in m.options) or "none"
        out.print(f"[bold]{m.name}[/bold]{mark}: {m.summary}", highlight=False)
        out.print(f"    jobs: {', '.join(sorted(m.jobs))}; needs: {', '.join(sorted(m.needs))}; options: {opts}", highlight=False)
        out.print(f"    score: {m.score}; partial: {m.partial}", highlight=False)


@app.command()
@with_method_options
def plan(
    n: Annotated[int, typer.Option("--n", help="Candidates to rank.", min=1)] = 100,
    method: Annotated[str, typer.Option(help="Methods to predict, comma-separated, or 'all' (every rerank method).")] = "all",
    model: Annotated[str | None, typer.Option(help="Named model or GGUF path whose tokenizer counts the tokens and "
                                                   "whose shape gives the FLOPs (default: the embedded model).")] = None,
    passage_tokens: Annotated[int, typer.Option(help="Tokens of each candidate.", min=1)] = 100,
    query_tokens: Annotated[int, typer.Option(help="Tokens of the query.", min=1)] = 10,
    cached: Annotated[float, typer.Option(help="Share of the judgments already in the cache (0-1).", min=0.0,
                                          max=1.0)] = 0.0,
    trials: Annotated[int, typer.Option(help="Simulated runs for the methods whose calls depend on the answers.",
                                        min=1)] = 20,
    noise: Annotated[float, typer.Option(help="The simulated judge's noise (log-odds; bench/judge_noise.py measures "
                                               "a model's).", min=0.0)] = 0.0,
    position_bias: Annotated[float, typer.Option(help="The simulated judge's bias toward the first item shown.")] = 0.0,
    spread: Annotated[float, typer.Option(help="How far apart the simulated judge sees the candidates: the spread "
                                               "of their strengths on its log-odds scale.", min=0.0)] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the predictions as JSON lines.")] = False,
    **options: Any,
) -> None:
    """Predict what methods will cost before running them: LLM calls, dependent rounds (batches
    that wait for earlier answers), prompt tokens and FLOPs (E2R-FLOPs' estimate).

    Methods whose calls do not depend on the answers are exact (their formula is shown); the
    others are run against the simulated judge on random lists: the mean and the range over
    --trials runs."""
    from judgerank.methods import Options, method_for, names_for
    from judgerank.plan import predict

    names = names_for("rerank") if method == "all" else [m.strip() for m in method.split(",") if m.strip()]
    for name in names:
        method_for("rerank", name)
    opts = Options.of({k: v for k, v in options.items() if v is not None})
    count, shape, label = _tokenizer(model)
    table = Table("method", "calls", "rounds", "prompt tokens", "FLOPs", "how", title=(
        f"{n} candidates, passages of {passage_tokens} tokens ({label}), {cached:.0%} cached"))
    formulas = []
    for name in names:
        p = predict(name, n, opts, cached=cached, trials=trials, passage_tokens=passage_tokens,
                    query_tokens=query_tokens, noise=noise, position_bias=position_bias, count_tokens=count, shape=shape,
                    spread=spread)
        if as_json:
            out.print_json(json.dumps(p.as_dict()))
            continue

        def fmt(r: Any, digits: int = 0, sci: bool = False) -> str:
            show = (lambda v: f"{v:.2e}") if sci else (lambda v: f"{v:,.{digits}f}")
            return show(r.mean) if r.low == r.high else f"{show(r.mean)} ({show(r.low)}-{show(r.high)})"

        if p.formula:
            formulas.append(f"{name}: {p.formula}")
        how = "exact" if p.formula else f"simulated x{p.trials}"
        table.add_row(name, fmt(p.calls), fmt(p.rounds), fmt(p.prompt_tokens), fmt(p.flops, sci=True), how)
    if not as_json:
        out.print(table)
        out.print("simulated: the mean (range) over the runs. exact:", highlight=False)
        for line in formulas:
            out.print(f"  {line}", highlight=False, soft_wrap=True)


def _tokenizer(model: str | None) -> tuple[Any, Any, str]:
    """The model's prompt-token counter and shape (judgerank plan), loaded from its GGUF."""
    from judgerank.runtime import ModelSpec, build_backend

    spec = ModelSpec.parse(model)
    spec.check()
    backend = build_backend(ModelSpec(spec.kind, spec.name, threads=1))
    return (lambda messages: len(backend.prompt_tokens(messages))), backend.shape, f"{spec.name or 'smollm2-135m'} tokens"


def _check_port(host: str, port: int) -> None:
    """One line, not uvicorn's traceback, when the address is taken or cannot be had."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise JudgerankError(
            f"cannot listen on {host}:{port} ({exc.strerror}): another program may use it; choose another --port"
        ) from None


def _check_writable(path: Path | None) -> None:
    """Fail before any work on an output file that cannot be written."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise JudgerankError(f"{path}: cannot write (no folder {folder})")
    if path.is_dir():
        raise JudgerankError(f"{path}: cannot write (it is a folder)")


def _budget(max_calls: int | None, max_tokens: int | None) -> Budget:
    for flag, value in (("--max-calls", max_calls), ("--max-tokens", max_tokens)):
        if value is not None and value < 0:
            raise JudgerankError(f"{flag} must be 0 or more, not {value}")
    return Budget(max_calls, max_tokens)


class Activity:
    """What long work is doing, shown in the progress line on stderr: the model loading, then
    the judgments made so far. The runtime reports to it (Runtime(observer=...))."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.task: Any = None
        self.label = ""

    def __call__(self, event: str, value: Any) -> None:
        if self.progress is None:
            return
        if event == "loading":
            text = f"loading model {value}"
        else:
            text = f"{self.label}: {value.calls} LLM calls, {value.cache_hits} cached, {value.embedded_texts} embedded"
        self.progress.update(self.task, description=text)

    @contextmanager
    def showing(self, label: str, total: int) -> Iterator[Activity]:
        """A progress line for `total` units of work: a bar for several, a spinner for one."""
        enabled = total > 1 or err.is_terminal
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
        if total > 1:
            columns += [MofNCompleteColumn(), TimeRemainingColumn()]
        progress = Progress(*columns, TimeElapsedColumn(), console=err, disable=not enabled, transient=total == 1)
        self.label = label
        with progress:
            self.progress, self.task = progress, progress.add_task(label, total=total if total > 1 else None)
            try:
                yield self
            finally:
                self.progress = None

    def advance(self, label: str) -> None:
        self.label = label
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=label)


ACTIVITY = Activity()


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


class FlagTally:
    """The guard's flags over a run, told once at its end: how many items each code flagged,
    what the code means and what the policy did."""

    def __init__(self, policy: str) -> None:
        self.policy = policy
        self.counts: dict[str, int] = {}
        self.examples: dict[str, str] = {}

    def add(self, where: str, flags: dict[str, list[str]]) -> None:
        for item, codes in flags.items():
            for code in codes:
                self.counts[code] = self.counts.get(code, 0) + 1
                self.examples.setdefault(code, f"{item} of {where}")

    def report(self) -> None:
        from judgerank.guard import FLAG_HELP
        done = {"demote": "ranked below the unflagged", "drop": "dropped"}.get(self.policy, "reported only")
        for code, n in sorted(self.counts.items()):
            err.print(f"guard: {n} flagged {code} ({done}; e.g. {self.examples[code]}): {FLAG_HELP[code]}",
                      markup=False, soft_wrap=True)


def _print_costs(costs: Costs, count: int, incomplete: int, unit: tuple[str, str] = ("query", "queries")) -> None:
    """incomplete: rankings a Budget cut short (for pairs: 1 if the Budget stopped the run)."""
    partial = "the run stopped early" if unit[0] == "pair" else f"{incomplete} partial ranking{'s' if incomplete > 1 else ''}"
    note = f"  (budget reached: {partial})" if incomplete else ""
    generated = f"{costs.completion_tokens} generated tokens, " if costs.completion_tokens else ""
    if costs.retries:
        note += f"  ({costs.retries} backend retries)"
    if costs.clipped_texts:
        note += f"  ({costs.clipped_texts} long texts clipped to fit the prompt)"
    err.print(
        f"{count} {unit[0] if count == 1 else unit[1]}: {costs.calls} LLM calls in {costs.rounds} rounds"
        f"{f' ({costs.implied} comparisons implied)' if costs.implied else ''}, {costs.prompt_tokens} prompt tokens "
        f"({costs.evaluated_tokens} evaluated), {generated}{costs.cache_hits} cache hits, {costs.embedded_texts} embedded, "
        f"{f'{costs.flops:.2e} FLOPs, ' if costs.flops else ''}{costs.seconds:.1f} s{note}",
        soft_wrap=True,
    )


class Interrupted(JudgerankError):
    """Ctrl-C: the message says what was kept and how to resume."""


def _click_exceptions() -> Any:
    """The click exceptions typer raises: its vendored copy where it has one, else click's."""
    import importlib

    try:
        return importlib.import_module("typer._click.exceptions")
    except ImportError:  # typer releases that use click itself
        return importlib.import_module("click.exceptions")


def main() -> None:
    errors = _click_exceptions()
    try:
        app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except errors.NoArgsIsHelpError:
        sys.exit(2)  # the help is already printed
    except errors.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "judgerank"
        err.print(f"judgerank: error: {exc.format_message()} (see '{command} --help')", markup=False, highlight=False,
                  soft_wrap=True)
        sys.exit(2)
    except errors.ClickException as exc:
        err.print(f"judgerank: error: {exc.format_message()}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except Interrupted as exc:
        err.print(f"judgerank: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(130)
    except (typer.Abort, KeyboardInterrupt):
        err.print("judgerank: interrupted; finished judgments are in the cache: run the same command again to resume")
        sys.exit(130)
    except JudgerankError as exc:
        err.print(f"judgerank: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the CLI promises no tracebacks
        if os.environ.get("JUDGERANK_DEBUG"):
            raise
        err.print(f"judgerank: internal error: {type(exc).__name__}: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
