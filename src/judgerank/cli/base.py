"""What every `judgerank` command shares: the typer app and its consoles, options several commands
take, the progress line, the cost line, output files that resume, Ray dispatch, and `main`, which
turns every failure into one line."""

from __future__ import annotations

import inspect
import json
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

from judgerank.errors import JudgerankError
from judgerank.types import Budget, Costs

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
