"""Run a job's tasks on a Ray cluster with Ray Data: a pool of actors, each holding one worker
(its own Runtime: the model loaded once, its own store connection), fed batches of tasks, the
results streamed back to the driver as they finish.

Order: results arrive as workers finish them (each carries its query or prompt id); ordered=True
keeps the input order instead, which can hold a finished result back behind a slow one.

Failures: an actor that dies (a killed process, a lost node) is restarted and its batch retried
(Ray's own retries, on without limit). Judgments a worker finished are already in the store, so
the retry answers them from the store: they are billed once, as cache hits the second time. A
judgment in flight at the moment of the kill is asked again. An error the work itself raises (a
model server that keeps failing) is not retried: the job stops with that error in one line, the
results finished before it already written.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from judgerank.core.errors import JudgerankError, needs_extra
from judgerank.distributed.jobs import JobSpec, Task, Worker


@dataclass(frozen=True)
class Cluster:
    """Where and how wide: address "local" starts a cluster in this process, "auto" joins the
    one RAY_ADDRESS or a local `ray start` names (else starts one), anything else is a Ray
    address (ray://host:10001, host:6379). workers None: as many as the cluster's CPUs allow."""

    address: str = "auto"
    workers: int | None = None
    cpus_per_worker: float = 1.0
    batch_size: int = 1  # tasks per batch sent to an actor: 1 spreads the work most evenly
    ordered: bool = False


def connect(cluster: Cluster) -> int:
    """Join or start the cluster; the number of workers to run."""
    try:
        import ray
    except ImportError:
        raise needs_extra("--ray", "ray") from None
    for name in ("ray", "ray.data"):  # Ray's own INFO lines would bury the progress line
        logging.getLogger(name).setLevel(logging.ERROR)
    # and its C++ core logs an error-level note on every run about actors that may restart
    # (which is what we want); a user's own setting wins
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    if not ray.is_initialized():
        quiet: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if cluster.address == "local":
            ray.init(**quiet)
        elif cluster.address == "auto":
            try:
                ray.init(address="auto", **quiet)
            except ConnectionError:
                ray.init(**quiet)  # no cluster running here: start one
        else:
            try:
                ray.init(address=cluster.address, **quiet)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise JudgerankError(f"--ray {cluster.address}: cannot join the cluster ({exc})") from None
    cpus = float(ray.cluster_resources().get("CPU", 1))
    workers = cluster.workers or max(1, int(cpus // cluster.cpus_per_worker))
    if workers * cluster.cpus_per_worker > cpus:
        raise JudgerankError(f"--workers {workers} x {cluster.cpus_per_worker:g} CPUs each needs "
                             f"{workers * cluster.cpus_per_worker:g} CPUs; the cluster has {cpus:g}")
    return workers


class JudgerankWorker:
    """What Ray Data runs in each actor: one Worker, rebuilt from the pickled spec."""

    def __init__(self, spec: bytes) -> None:
        self.worker = Worker(pickle.loads(spec))

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"n": [], "done": []}
        for n, task in zip(batch["n"], batch["task"]):
            out["n"].append(int(n))
            try:
                done = self.worker.run(pickle.loads(task))
            except JudgerankError as exc:  # the driver stops with this one line, not Ray's traceback
                done = {"error": str(exc), "worker": self.worker.name}
            out["done"].append(pickle.dumps(done))
        return out


def run(tasks: Sequence[Task], spec: JobSpec, cluster: Cluster) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index into tasks, the worker's result) for each task, as the cluster finishes them."""
    import ray
    import ray.data

    workers = connect(cluster)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the CLI shows its own, per worker
    context.execution_options.preserve_order = cluster.ordered
    # retried: a lost actor (killed, its node gone). Not retried: an error the work itself raised
    # (a model server that answers 500 would otherwise be asked again forever)
    context.actor_task_retry_on_errors = False
    items = [{"n": n, "task": pickle.dumps(task)} for n, task in enumerate(tasks)]
    ds: Any = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), workers * 4)))
    ds = ds.map_batches(
        JudgerankWorker,
        fn_constructor_kwargs={"spec": pickle.dumps(spec)},
        batch_size=cluster.batch_size,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=cluster.cpus_per_worker,  # Ray Data restarts a lost actor and retries its batch by default
        runtime_env={"env_vars": {k: v for k, v in os.environ.items() if k.startswith("JUDGERANK_")}},
    )
    for row in ds.iter_rows():
        done = pickle.loads(row["done"])
        if "error" in done:
            raise JudgerankError(f"worker {done['worker']}: {done['error']}")
        yield int(row["n"]), done
