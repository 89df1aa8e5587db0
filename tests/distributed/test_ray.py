"""Rerank and judge jobs on a real local Ray cluster: the same rankings as one process, nothing
lost when a worker is killed, and a killed driver resumed from its partial output."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the [ray] extra")
pytestmark = pytest.mark.ray

from helpers import graded_request  # noqa: E402
from helpers.standin_openai import StandinOpenAI  # noqa: E402

from judgerank import Reranker  # noqa: E402
from judgerank.core.types import Query  # noqa: E402
from judgerank.distributed.jobs import JobSpec  # noqa: E402
from judgerank.distributed.ray import Cluster, run  # noqa: E402
from judgerank.judge.judge import Judge  # noqa: E402
from judgerank.store import SQLiteStore  # noqa: E402

GRADES = [float((7 * g) % 4) for g in range(12)]


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=150 * 1024 * 1024,
             configure_logging=False)
    yield Cluster(address="local", workers=2)
    ray.shutdown()


@pytest.fixture
def simulated(tmp_path) -> tuple[list, str]:
    requests = [graded_request(GRADES, f"q{n}") for n in range(6)]
    path = tmp_path / "grades.json"
    path.write_text(json.dumps({i.text: g for r in requests for i, g in zip(r.items, GRADES)}))
    return requests, f"simulated:{path}"


@pytest.mark.parametrize("method,options", [("pointwise", {}), ("pairwise-heap", {"top_k": 3}),
                                            ("jointrank", {"set_size": 4, "replicas": 2}),
                                            ("pairwise-heap", {"top_k": 3, "verdicts": "text", "samples": 3,
                                                               "temperature": 1.0})])
def test_ray_gives_exactly_the_single_process_rankings(cluster, simulated, method, options):
    requests, model = simulated
    spec = JobSpec("rerank", method, model, store=None, options=options)
    got = dict(run(requests, spec, cluster))
    assert sorted(got) == list(range(len(requests)))
    assert len({g["worker"] for g in got.values()}) >= 1
    with Reranker(method, model, store=None, **options) as reranker:
        for n, request in enumerate(requests):
            expected = reranker.rank(request.query, request.items).as_dict()
            assert got[n]["result"]["ranking"] == expected["ranking"], (method, n)
            assert got[n]["result"]["costs"]["calls"] == expected["costs"]["calls"]


def test_ray_judges_prompts_as_one_process_does(cluster, simulated):
    requests, model = simulated
    tasks = [(Query(r.query.id, r.query.text), r.items[:4]) for r in requests[:3]]
    got = dict(run(tasks, JobSpec("judge", "allpairs", model, store=None, options={"ratings": False}), cluster))
    with Judge("allpairs", model, ratings=False, store=None) as judge:
        for n, (query, items) in enumerate(tasks):
            assert got[n]["result"]["ranking"] == judge.rank(query, items).as_dict()["ranking"]


def _worker_pids() -> list[int]:
    """The processes of Ray Data's map actors (their title names the actor class)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "MapWorker" in title and "JudgerankWorker" in title:
                pids.append(int(entry.name))
    return pids


def test_a_killed_worker_loses_nothing_and_bills_each_judgment_once(cluster, tmp_path):
    requests = [graded_request([0.0] * 5, f"q{n}") for n in range(8)]
    judgments = sum(len(r.items) for r in requests)
    store = tmp_path / "store.sqlite"
    with StandinOpenAI(delay=0.25) as server:
        spec = JobSpec("rerank", "pointwise", "standin", base_url=f"{server.url}/v1", store=str(store), concurrency=1)
        results: dict = {}
        job = threading.Thread(target=lambda: results.update(run(requests, spec, cluster)))
        job.start()
        deadline = time.monotonic() + 60
        while server.requests < 6:  # both workers are judging
            assert time.monotonic() < deadline and job.is_alive(), "the job did not start"
            time.sleep(0.05)
        victims = _worker_pids()
        assert victims, "no Ray worker process found"
        os.kill(victims[0], signal.SIGKILL)
        job.join(180)
        asked = server.requests
    assert sorted(results) == list(range(len(requests)))
    billed = sum(r["result"]["costs"]["calls"] for r in results.values())
    hits = sum(r["result"]["costs"]["cache_hits"] for r in results.values())
    assert asked > billed  # the kill cut a batch short: its judgments were asked but not billed by a result
    assert billed + hits == judgments  # the retried batch: what the killed worker finished comes from the store
    assert billed <= judgments
    assert asked <= judgments + 1  # at most the one judgment in flight at the kill is asked again
    # each judgment once, and each passage's and query's vector (the guard's support check)
    assert len(SQLiteStore(store)) == 2 * judgments + len(requests)
    with Reranker("pointwise", "standin", base_url="http://127.0.0.1:9/v1", store=store) as again:
        for n, request in enumerate(requests):  # all from the store: this URL has no server
            assert results[n]["result"]["ranking"] == again.rank(request.query, request.items).as_dict()["ranking"]


def test_a_killed_driver_resumes_from_its_partial_output(simulated, tmp_path):
    requests, model = simulated
    lines = [json.dumps({"query_id": r.query.id, "query": r.query.text,
                         "candidates": [{"docid": i.id, "content": i.text} for i in r.items]}) for r in requests]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "run.jsonl"
    command = [sys.executable, "-m", "judgerank", "rerank", "--input", tmp_path / "in.jsonl", "--method", "pointwise",
               "--model", model, "--store", tmp_path / "c.sqlite", "--out", out, "--ray", "local", "--workers", "2",
               "--ordered"]
    settings = tmp_path / "run.jsonl.partial.settings"  # written as the run begins, removed when it ends
    seen = None
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as running:
        while running.poll() is None:
            if seen is None and settings.is_file():
                seen = settings.read_text()
            time.sleep(0.02)
        _, stderr = running.communicate(timeout=300)
    assert running.returncode == 0, stderr
    assert seen is not None and not settings.exists()
    complete = out.read_text().splitlines()
    assert [json.loads(line)["query_id"] for line in complete] == [r.query.id for r in requests]
    summary = json.loads((tmp_path / "run.jsonl.workers.json").read_text())
    assert summary["costs"]["calls"] == 72 == sum(w["calls"] for w in summary["workers"].values())
    # as a killed driver leaves it: three queries finished, the fourth cut mid-line
    out.unlink()
    (tmp_path / "run.jsonl.partial").write_text("\n".join(complete[:4]) + "\n" + complete[4][:30])
    settings.write_text(seen)
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "resuming" in second.stderr and "it holds 4 finished; 3 kept" in second.stderr
    assert "0 LLM calls" in second.stderr  # the 3 redone (1 cut, 2 left) come from the store
    lines_after = out.read_text().splitlines()
    assert sorted(json.loads(x)["query_id"] for x in lines_after) == sorted(r.query.id for r in requests)
    strip = lambda line: {k: v for k, v in json.loads(line).items() if k not in ("costs", "worker")}  # noqa: E731
    assert sorted(map(json.dumps, map(strip, lines_after))) == sorted(map(json.dumps, map(strip, complete)))


def test_judge_on_ray_from_the_cli_matches_one_process(simulated, tmp_path):
    requests, model = simulated
    prompts = [{"prompt_id": r.query.id, "prompt": r.query.text,
                "responses": [{"id": i.id, "text": i.text} for i in r.items[:4]]} for r in requests[:3]]
    (tmp_path / "prompts.jsonl").write_text("\n".join(map(json.dumps, prompts)) + "\n")
    base = [sys.executable, "-m", "judgerank", "judge", tmp_path / "prompts.jsonl", "--model", model, "--no-ratings",
            "--no-store"]
    here = subprocess.run([*base, "--out", tmp_path / "here.jsonl"], capture_output=True, text=True, timeout=300)
    there = subprocess.run([*base, "--out", tmp_path / "ray.jsonl", "--ray", "local", "--workers", "2"],
                           capture_output=True, text=True, timeout=300)
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    rows = {}
    for name in ("here", "ray"):
        records = [json.loads(x) for x in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        rows[name] = {r["prompt_id"]: r["ranking"] for r in records}
    assert rows["ray"] == rows["here"] and len(rows["here"]) == 3
    assert re.search(r"3 prompts: 36 LLM calls in \d+ rounds", there.stderr), there.stderr  # 3 x 6 pairs x 2 orders
    (tmp_path / "pairs.json").write_text(json.dumps([{"input": "q", "output_1": "a", "output_2": "b", "label": 1}]))
    pairs = subprocess.run([*base[:4], tmp_path / "pairs.json", "--ray", "local"],
                           capture_output=True, text=True)
    assert pairs.returncode == 2 and "a pairs file is judged in one process" in pairs.stderr, pairs.stderr


def test_more_workers_than_the_cluster_holds_is_one_error_before_any_output(simulated, tmp_path):
    requests, model = simulated
    (tmp_path / "in.jsonl").write_text(json.dumps({"query_id": "q", "query": "x", "candidates": [
        {"docid": "a", "content": "a"}]}) + "\n")
    done = subprocess.run([sys.executable, "-m", "judgerank", "rerank", "--input", tmp_path / "in.jsonl", "--model",
                           model, "--method", "pointwise", "--no-store", "--out", tmp_path / "run.trec", "--ray", "local",
                           "--workers", "64"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert re.search(r"--workers 64 x 1 CPUs each needs 64 CPUs; the cluster has \d+", done.stderr), done.stderr
    assert not list(tmp_path.glob("run.trec*"))


@pytest.mark.timeout(180)
def test_an_error_in_the_work_stops_the_job_with_one_line_not_endless_retries(cluster, tmp_path):
    from judgerank.core.errors import JudgerankError

    requests = [graded_request([0.0] * 3, "q0")]
    spec = JobSpec("rerank", "pointwise", "m", base_url="http://127.0.0.1:9/v1", store=None)  # nothing listens there
    with pytest.raises(JudgerankError, match=r"^worker \S+: http://127.0.0.1:9/v1/chat/completions: cannot connect"):
        list(run(requests, spec, cluster))


def test_assess_on_ray_from_the_cli_matches_one_process(simulated, tmp_path):
    requests, model = simulated
    rows = [{"query_id": r.query.id, "query": r.query.text, "candidates": [{"id": i.id, "text": i.text} for i in r.items]}
            for r in requests[:3]]
    (tmp_path / "pool.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    base = [sys.executable, "-m", "judgerank", "assess", "--input", tmp_path / "pool.jsonl", "--model", model,
            "--no-store"]
    here = subprocess.run([*base, "--out", tmp_path / "here.jsonl"], capture_output=True, text=True, timeout=300)
    there = subprocess.run([*base, "--out", tmp_path / "ray.jsonl", "--ray", "local", "--workers", "2"],
                           capture_output=True, text=True, timeout=300)
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    assert sorted((tmp_path / "ray.qrels").read_text().splitlines()) == sorted(
        (tmp_path / "here.qrels").read_text().splitlines())
    # the simulated assessor's likeliest grade is each passage's own
    grades = {f"{r.query.id} 0 {i.id} {int(g)}" for r in requests[:3] for i, g in zip(r.items, GRADES)}
    assert set((tmp_path / "here.qrels").read_text().splitlines()) == grades
    assert re.search(r"3 topics: 36 LLM calls", there.stderr) and re.search(r"3 topics on \d workers", there.stderr)
