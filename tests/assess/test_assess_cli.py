"""judgerank assess and assess-eval as a user meets them: on the embedded model over a small
pool, resumed after Ctrl-C, and their one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from helpers import interrupted

from judgerank.assess.agreement import label_agreement
from judgerank.io.trec import read_qrels

CLI = [sys.executable, "-m", "judgerank"]


def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def _pool_files(tmp_path, topics: int = 2):
    words = "flea egg larva pupa adult host blood cat dog paris france seine".split()
    run_a, run_b, corpus, queries = [], [], [], []
    for q in range(topics):
        queries.append(f"q{q}\tquestion {q} about {words[q % len(words)]}\n")
        for d in range(4):
            corpus.append(f"q{q}d{d}\tpassage {d}: " + " ".join(words[(q + d + k) % len(words)] for k in range(12)) + "\n")
            run_a.append(f"q{q} Q0 q{q}d{d} {d + 1} {10 - d} a\n")
            run_b.append(f"q{q} Q0 q{q}d{3 - d} {d + 1} {10 - d} b\n")
    for name, lines in (("a.trec", run_a), ("b.trec", run_b), ("corpus.tsv", corpus), ("topics.tsv", queries)):
        (tmp_path / name).write_text("".join(lines))
    return tmp_path / "a.trec", tmp_path / "b.trec", tmp_path / "topics.tsv", tmp_path / "corpus.tsv"


@pytest.mark.llm
def test_assess_grades_a_pool_with_the_embedded_model_and_assess_eval_reads_it(tmp_path):
    a, b, topics, corpus = _pool_files(tmp_path)
    store = tmp_path / "s.sqlite"
    # depth 1: each run's first passage, d0 from a and d3 from b
    first = run("assess", a, b, "--topics", topics, "--corpus", corpus, "--depth", 1, "--store", store)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [["q0", "0", "q0d0"], ["q0", "0", "q0d3"], ["q1", "0", "q1d0"],
                                                    ["q1", "0", "q1d3"]]
    assert all(line.split()[3] in "0123" for line in lines)
    assert re.search(r"2 topics: 4 LLM calls", first.stderr)
    out = tmp_path / "labels.jsonl"
    again = run("assess", a, b, "--topics", topics, "--corpus", corpus, "--depth", 1, "--store", store, "--out", out)
    assert again.returncode == 0 and re.search(r"0 LLM calls .* 4 cache hits", again.stderr), again.stderr
    assert (tmp_path / "labels.qrels").read_text().splitlines() == lines  # the same labels, from the store
    records = [json.loads(line) for line in out.read_text().splitlines()]
    label = records[0]["labels"][0]
    assert label["grade"] == max(range(4), key=lambda g: label["probabilities"][g])
    assert label["expected"] == pytest.approx(sum(g * p for g, p in enumerate(label["probabilities"])), abs=1e-5)

    people = tmp_path / "people.qrels"
    people.write_text("q0 0 q0d0 3\nq0 0 q0d3 0\nq0 0 q0d1 2\nq1 0 q1d0 1\nq1 0 q1d3 2\n")
    report, figures = tmp_path / "card.html", tmp_path / "card.json"
    evaluated = run("assess-eval", tmp_path / "labels.qrels", a, b, "--qrels", people, "--report", report,
                    "--out", figures, "--samples", 50)
    assert evaluated.returncode == 0, evaluated.stderr
    payload = json.loads(figures.read_text())
    expected = label_agreement(read_qrels(tmp_path / "labels.qrels"), read_qrels(people))
    assert payload["labels"]["kappa"] == pytest.approx(expected.kappa)
    assert payload["labels"]["shared"] == 4 and payload["labels"]["only_people"] == 1
    assert {(s["measure"], s["holes"]) for s in payload["systems"]} == {
        ("ndcg@10", "count"), ("ndcg@10", "condense"), ("map", "count"), ("map", "condense")}
    assert "<svg" in report.read_text() and "Kendall" in report.read_text()


@pytest.mark.llm
def test_ctrl_c_keeps_the_finished_topics_and_the_same_command_resumes(tmp_path):
    a, b, topics, corpus = _pool_files(tmp_path, topics=10)
    out, partial, store = tmp_path / "l.jsonl", tmp_path / "l.jsonl.partial", tmp_path / "s.sqlite"
    args = [*CLI, "assess", str(a), str(b), "--topics", str(topics), "--corpus", str(corpus), "--store", str(store),
            "--out", str(out)]
    code, stderr, _ = interrupted(args, lambda: partial.exists() and len(partial.read_text().splitlines()) >= 3)
    assert code == 130, stderr
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    assert "of 10 topics" in last and "l.jsonl.partial holds" in last and "run the same command to resume" in last
    assert not out.exists()
    finished = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "resuming" in finished.stderr
    ids = [json.loads(line)["query_id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(f"q{n}" for n in range(10))
    assert len((tmp_path / "l.qrels").read_text().splitlines()) == 10 * 4


def test_assess_errors_are_one_line(tmp_path):
    a, b, topics, corpus = _pool_files(tmp_path)
    for args, pattern in (
        (("assess", a, "--topics", topics), r"needs --topics and --corpus: add --corpus"),
        (("assess",), r"nothing to assess"),
        (("assess", tmp_path / "none.trec", "--topics", topics, "--corpus", corpus), r"none\.trec: no such file"),
        (("assess", a, "--topics", topics, "--corpus", corpus, "--label", "mode"), r"label 'mode'"),
        (("assess-eval", a), r"add --qrels"),
        (("assess-eval", tmp_path / "x.qrels", "--qrels", a), r"x\.qrels: no such file"),
    ):
        result = run(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and re.search(pattern, lines[0]), result.stderr
