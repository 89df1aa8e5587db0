"""Long work on the command line: the one task loop (progress, costs, interruption), the output
files that resume, the progress line, the cost line, the guard's tally, and the same tasks
spread over Ray workers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from judgerank.cli.app import PARTIALS, STOP_MESSAGE, Interrupted, err
from judgerank.core.costs import Costs
from judgerank.core.errors import JudgerankError
from judgerank.guard import FLAG_HELP
from judgerank.runtime import Runtime
from judgerank.store import SQLiteStore
from judgerank.store.postgres import PostgresStore

if TYPE_CHECKING:  # Ray's side is imported by the commands that spread work (--ray), not by every command
    from judgerank.distributed.jobs import JobSpec
    from judgerank.distributed.ray import Cluster

T = TypeVar("T")
Unit = tuple[str, str]  # (one, many): ("query", "queries")


class Activity:
    """What long work is doing, shown in the progress line on stderr: the model loading, then
    the judgments made so far. The runtime reports to it (Runtime(observer=...))."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.label = ""

    def __call__(self, event: str, value: Any) -> None:
        if event == "note":
            err.print(f"note: {value}", markup=False, highlight=False, soft_wrap=True)
            return
        if self.progress is None or self.task is None:
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

    def note(self, text: str) -> None:
        """Say what the current unit of work is doing, without counting it done."""
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=text)

    def advance(self, label: str) -> None:
        self.label = label
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=1, description=label)


ACTIVITY = Activity()


class Output:
    """A results file written line by line as work finishes, under NAME.partial until the run
    completes, so an interrupted run never leaves a file that looks finished.

    resume: how to read (id, method) from a line. With it, a NAME.partial left by an interrupted
    run is kept and continued: `done` holds the ids it finished (the last one it holds is dropped
    and done again, as its lines may be cut short; its judgments come from the store). A partial
    file is judgerank's only with its NAME.partial.settings beside it, written when the run began
    and equal to this run's `settings` (the command, method, model, options, input): any other
    partial file is refused, never read as finished work."""

    def __init__(self, path: Path | None, resume: Callable[[str], tuple[str, str]] | None = None,
                 method: str | None = None, settings: dict[str, Any] | None = None, as_list: bool = False) -> None:
        self.path = path
        self.as_list = as_list  # the finished file is one JSON list of the lines (each a JSON value)
        self.partial = path.with_name(path.name + ".partial") if path else None
        self.settings_file = path.with_name(path.name + ".partial.settings") if path else None
        self._fh: TextIO | None = None
        self.done: set[str] = set()
        if self.partial is not None and self.settings_file is not None:
            identity = json.dumps({"judgerank": "partial output", "method": method, **(settings or {})}, sort_keys=True,
                                  default=str)
            kept = self._resume(resume, method, identity) if resume is not None and self.partial.is_file() else []
            try:
                self.settings_file.write_text(identity + "\n", encoding="utf-8")
                self._fh = self.partial.open("w", encoding="utf-8")
            except OSError as exc:
                raise JudgerankError(f"{path}: cannot write ({exc.strerror})") from None
            self.write(kept)
            PARTIALS.append(str(self.partial))

    def _resume(self, key: Callable[[str], tuple[str, str]], method: str | None, identity: str) -> list[str]:
        assert self.partial is not None and self.settings_file is not None
        try:
            written = self.settings_file.read_text(encoding="utf-8").strip()
        except OSError:
            written = None
        if written is None:
            raise JudgerankError(f"{self.partial} was not left by a judgerank run (no {self.settings_file.name} beside "
                                 "it): delete it to start over")
        if written != identity:
            raise JudgerankError(f"{self.partial} was left by a run with other settings ({self.settings_file.name}): run "
                                 "that command again to resume it, or delete both files to start over")
        text = self.partial.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")[:-1]  # a last line without its newline was cut short
        ids: list[str] = []
        for number, line in enumerate(lines, 1):
            try:
                qid, written_by = key(line)
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                raise JudgerankError(f"{self.partial}:{number}: not a line this command writes; delete the file to "
                                     "start over") from None
            if method is not None and written_by != method:
                raise JudgerankError(f"{self.partial} was written by method {written_by}, not {method}: run that "
                                     "method to resume it, or delete the file to start over")
            ids.append(qid)
        if not ids:
            return []
        last = ids[-1]
        self.done = set(ids) - {last}
        held = len(self.done) + 1
        err.print(f"resuming {self.partial}: it holds {held} finished; {len(self.done)} kept, the last ({last}) judged "
                  "again, as its lines may be cut short (from the store, at no cost for what it holds)", highlight=False)
        return [line for line, qid in zip(lines, ids) if qid != last]

    def write(self, lines: list[str]) -> None:
        if self._fh is not None:
            self._fh.writelines(line + "\n" for line in lines)
            self._fh.flush()

    def record(self, record: dict[str, Any]) -> None:
        self.write([json.dumps(record)])

    def finish(self) -> None:
        if self._fh is not None and self.path is not None and self.partial is not None:
            self._fh.close()
            if self.as_list:
                lines = [line for line in self.partial.read_text(encoding="utf-8").splitlines() if line]
                self.path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
                self.partial.unlink()
            else:
                self.partial.replace(self.path)
            if self.settings_file is not None:
                self.settings_file.unlink(missing_ok=True)
            err.print(f"wrote {self.path}")


def id_of_json(line: str) -> tuple[str, str]:
    """(query or prompt id, method) of a JSON line this CLI wrote."""
    record = json.loads(line)
    return str(record.get("query_id", record.get("prompt_id"))), str(record.get("method"))


def id_of_rank_llm(line: str) -> tuple[str, str]:
    """(query id, method) of a rank_llm Result line this CLI wrote (rerank --out NAME.json)."""
    record = json.loads(line)
    return str(record["query"]["qid"]), str(record["judgerank"]["method"])


def id_of_trec(line: str) -> tuple[str, str]:
    """(query id, run tag: the method) of a TREC run line."""
    parts = line.split()
    if len(parts) != 6:
        raise ValueError("not a run line")
    return parts[0], parts[5]


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
        done = {"demote": "ranked below the unflagged", "drop": "dropped",
                "zero": "labelled 0 without a call"}.get(self.policy, "reported only")
        for code, n in sorted(self.counts.items()):
            err.print(f"guard: {n} flagged {code} ({done}; e.g. {self.examples[code]}): {FLAG_HELP[code]}",
                      markup=False, soft_wrap=True)


def print_costs(costs: Costs, count: int, incomplete: int, unit: Unit = ("query", "queries"), prefix: str = "") -> None:
    """The cost line on stderr. incomplete: rankings a Budget cut short (for pairs: 1 if the
    Budget stopped the run)."""
    partial = "the run stopped early" if unit[0] == "pair" else f"{incomplete} partial ranking{'s' if incomplete > 1 else ''}"
    note = f"  (budget reached: {partial})" if incomplete else ""
    generated = f"{costs.completion_tokens} generated tokens, " if costs.completion_tokens else ""
    if costs.retries:
        note += f"  ({costs.retries} backend retries)"
    if costs.repairs:
        note += f"  ({costs.repairs} verdicts in words asked again, {costs.unparsed} still unreadable and left out)"
    if costs.clipped_texts:
        note += f"  ({costs.clipped_texts} long texts clipped to fit the prompt)"
    err.print(
        f"{prefix}{count} {unit[0] if count == 1 else unit[1]}: {costs.calls} LLM calls in {costs.rounds} rounds"
        f"{f' ({costs.implied} comparisons implied)' if costs.implied else ''}, {costs.prompt_tokens} prompt tokens "
        f"({costs.evaluated_tokens} evaluated), {generated}{costs.cache_hits} cache hits, {costs.embedded_texts} embedded, "
        f"{f'{costs.flops:.2e} FLOPs, ' if costs.flops else ''}{costs.seconds:.1f} s{note}",
        soft_wrap=True, markup=False, highlight=False,
    )


@dataclass
class Totals:
    """What a run of tasks did: how many finished, their summed costs, how many a Budget cut."""

    done: int = 0
    costs: Costs = field(default_factory=Costs)
    incomplete: int = 0


def run_tasks(results: Iterable[tuple[int, T]], total: int, handle: Callable[[int, T], tuple[Costs, bool]], *,
              label: str, unit: Unit, sink: Output, runtime: Runtime | None) -> Totals:
    """The one task loop: each (index, result) as the work yields it goes to `handle`, which
    writes it and says what it cost and whether it finished; a progress line counts them, the
    output file is finished at the end and the cost line printed. Ctrl-C stops it with a line
    that says what was kept and how to resume."""
    totals = Totals()
    STOP_MESSAGE.append(lambda: _interrupted(totals.done, total, unit[1], sink, runtime))
    with ACTIVITY.showing(label, total) as activity:
        try:
            for n, result in results:
                costs, complete = handle(n, result)
                totals.costs.add(costs)
                totals.incomplete += not complete
                totals.done += 1
                activity.advance(f"{label} ({totals.done} of {total} {unit[1]}, {totals.costs.calls} calls)")
        except KeyboardInterrupt:
            raise Interrupted(_interrupted(totals.done, total, unit[1], sink, runtime)) from None
    sink.finish()
    print_costs(totals.costs, totals.done, totals.incomplete, unit)
    return totals


def stopped(runtime: Runtime) -> str:
    """What an interrupted job without an output file kept, and how to resume it."""
    if runtime.store is None:
        return "interrupted: judgments were not stored (--no-store), so a re-run starts over"
    return ("interrupted: every judgment that came back is in the judgment store; run the same command again to "
            "finish at no cost for those")


def _interrupted(done: int, total: int, what: str, sink: Output, runtime: Runtime | None) -> str:
    held = done + len(sink.done)
    kept = (f"{sink.partial} holds {held} finished (the last of them is judged again when resumed); "
            if sink.path and held else f"{sink.partial} holds none finished; " if sink.path else "")
    store = runtime.store if runtime is not None else None
    if runtime is not None and store is None:
        resume = "judgments were not stored (--no-store), so a re-run starts over"
    else:
        where = f" {store.location}" if store is not None else ""
        resume = f"every finished judgment is in the store{where}: run the same command to resume"
    return f"interrupted after {done} of {total} {what}; {kept}{resume}"


# --- the same tasks on Ray workers ----------------------------------------------------------


def join_cluster(address: str, workers: int | None, cpus_per_worker: float, ordered: bool) -> Cluster:
    """The Ray cluster, joined (or started) and checked against --workers before any output is opened."""
    from judgerank.distributed.ray import Cluster, connect

    cluster = Cluster(address=address, workers=workers, cpus_per_worker=cpus_per_worker, ordered=ordered)
    connect(cluster)
    return cluster


def job_spec(kind: str, method: str, model: str | None, base_url: str | None, runtime: Runtime, threads: int | None,
             cpus_per_worker: float, max_calls: int | None, max_tokens: int | None, options: dict[str, Any],
             context: int | None = None) -> JobSpec:
    """The job as Ray workers rebuild it; the driver's runtime is closed (each worker opens its own).
    A prompt or rubric file is named by its absolute path, which workers on this machine read."""
    options = {k: str(Path(v).resolve()) if k in ("prompt", "rubric") and v else v for k, v in options.items()}
    from judgerank.distributed.jobs import JobSpec

    spec = JobSpec(kind, method, model, base_url, store=_store_for_workers(runtime),  # type: ignore[arg-type]
                   threads=threads or max(1, int(cpus_per_worker)), max_calls=max_calls, max_tokens=max_tokens,
                   options=options, context=context)
    runtime.close()
    return spec


def _store_for_workers(runtime: Runtime) -> str | None:
    """The runtime's store as workers must name it: the URL, or the SQLite file's absolute path
    (with a warning when the cluster spans machines: each would keep its own file)."""
    store = runtime.store
    if isinstance(store, PostgresStore):
        return store.url
    if not isinstance(store, SQLiteStore):
        return None
    import ray

    if sum(1 for node in ray.nodes() if node.get("Alive")) > 1:
        err.print("warning: the Ray cluster spans machines and the store is a SQLite file: workers on other "
                  "machines keep their own copy; give --store postgresql://... to share judgments", markup=False)
    return str(store.path.resolve())


def on_ray(tasks: list[Any], spec: JobSpec, cluster: Cluster, unit: Unit, sink: Output, out_path: Path | None,
           write: Callable[[int, dict[str, Any]], object]) -> None:
    """A job's tasks on Ray workers, through the task loop: each result handed to `write` as it
    arrives; each worker's count, calls and seconds printed and written beside --out
    (NAME.workers.json)."""
    per_worker: dict[str, dict[str, float]] = {}
    started = time.perf_counter()

    def handle(n: int, result: dict[str, Any]) -> tuple[Costs, bool]:
        record = result["result"]
        write(n, record | {"worker": result["worker"]})
        w = per_worker.setdefault(result["worker"], {unit[1]: 0, "calls": 0, "seconds": 0.0})
        w[unit[1]] += 1
        w["calls"] += record["costs"]["calls"]
        w["seconds"] += result["seconds"]
        return Costs(**record["costs"]), record["complete"]

    from judgerank.distributed.ray import run as run_on_ray

    totals = run_tasks(run_on_ray(tasks, spec, cluster), len(tasks), handle, label=f"{spec.kind} on Ray", unit=unit,
                       sink=sink, runtime=None)
    wall = time.perf_counter() - started
    for name, w in sorted(per_worker.items()):
        err.print(f"worker {name}: {int(w[unit[1]])} {unit[1]}, {int(w['calls'])} LLM calls, {w['seconds']:.1f} s",
                  markup=False, highlight=False)
    err.print(f"{len(tasks)} {unit[1]} on {len(per_worker)} workers in {wall:.1f} s", highlight=False)
    if out_path is not None:
        summary = out_path.with_name(out_path.name + ".workers.json")
        summary.write_text(json.dumps({unit[1]: len(tasks), "seconds": wall, "costs": totals.costs.as_dict(),
                                       "workers": per_worker}, indent=1))
        err.print(f"wrote {summary}")
