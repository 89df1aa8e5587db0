"""judgerank distil as a user meets it: the embedded model teaches a tiny student that the
cross-encoder method then ranks with; a second run reads every judgment from the store (and with
--int8 switches the student to int8 weights); its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="the [cross] extra")
pytest.importorskip("transformers", reason="the [cross] extra")

from helpers import EXAMPLES  # noqa: E402
from helpers.tiny_bert import tiny_bert  # noqa: E402

CLI = [sys.executable, "-m", "judgerank"]
WORDS = "flea fleas life cycle egg larva pupa adult paris capital france bread flour how long is the of a".split()


def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture
def requests_file(tmp_path):
    path = tmp_path / "requests.jsonl"
    rows = [("q1", "how long is the life cycle of a flea", ["the flea life cycle is egg larva pupa adult",
                                                            "paris is the capital of france", "bread is flour"]),
            ("q2", "what is the capital of france", ["paris is the capital of france", "fleas live months",
                                                     "egg larva pupa"]),
            ("q3", "how is bread made", ["bread is made of flour", "a flea in paris", "adult fleas"])]
    path.write_text("".join(json.dumps({"query_id": q, "query": text, "candidates": [
        {"id": f"{q}-{n}", "text": d} for n, d in enumerate(docs)]}) + "\n" for q, text, docs in rows))
    return path


@pytest.mark.parametrize("kind", ["bi-encoder", "cross-encoder"])
def test_the_embedded_model_teaches_a_student_that_then_ranks(requests_file, tmp_path, kind):
    base = tiny_bert(tmp_path / "base", WORDS)
    student, store = tmp_path / "student", tmp_path / "store.sqlite"
    args = ("distil", "--input", requests_file, "--out", student, "--from", base, "--store", store, "--epochs", "2",
            "--validation", "0.34", "--student", kind)
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert "9 passages judged (0 from the store, 9 new calls)" in first.stderr
    said = json.loads(first.stdout)
    assert said["student"] == str(student) and said["judged"] == 9 and said["lessons"] == 3
    provenance = json.loads((student / "distil.json").read_text())
    assert provenance["teacher"] == {"method": "pointwise", "model": "smollm2-135m", "template": "relevance-yes-no@2",
                                     "labels": "soft"}
    # two short answers made of their query's words are flagged (query-echo) and teach nothing
    assert "9 passages judged (0 from the store, 9 new calls); 2 flagged by the guard and left out" in first.stderr
    assert provenance["judgments"] == {"judged": 9, "flagged_left_out": 2, "from_store": 0, "new_calls": 9}
    assert len(provenance["train_queries"]) == 2 and len(provenance["validation_queries"]) == 1
    assert provenance["student"] == kind
    assert provenance["settings"]["loss"] == ("pairwise" if kind == "bi-encoder" else "pointwise")
    assert said["int8"] is False and "int8" not in provenance
    # paid once: the same command reads every judgment from the store and finds the student made;
    # --int8 on it only switches the student to its int8 graph (the ranking below runs that)
    again = run(*args, "--int8")
    assert again.returncode == 0, again.stderr
    assert "9 passages judged (9 from the store, 0 new calls)" in again.stderr
    assert json.loads(again.stdout)["best_epoch"] == said["best_epoch"] and json.loads(again.stdout)["int8"] is True
    assert "runs with int8 weights" in again.stderr
    assert json.loads((student / "distil.json").read_text()) == provenance | {"int8": True}
    ranked = run("rerank", "--input", requests_file, "--method", kind, "--model", student, "--no-store",
                 "--format", "json", "--limit", "1")
    assert ranked.returncode == 0, ranked.stderr
    assert sorted(r["id"] for r in json.loads(ranked.stdout.splitlines()[0])["ranking"]) == ["q1-0", "q1-1", "q1-2"]


@pytest.mark.parametrize(("extra", "message"), [
    (("--method", "allpairs", "--loss", "pointwise"), "--loss pointwise needs a teacher that gives probabilities"),
    (("--validation", "1.5"), "validation 1.5: give the share of queries held out"),
    (("--loss", "listwise"), "loss 'listwise': use pointwise or pairwise"),
    (("--from", "/nonexistent/encoder"), "--from /nonexistent/encoder: not an encoder folder"),
    (("--student", "tree"), "student 'tree': use bi-encoder or cross-encoder"),
])
def test_bad_settings_are_one_line_before_any_work(requests_file, tmp_path, extra, message):
    result = run("distil", "--input", requests_file, "--out", tmp_path / "s", "--no-store", "--max-calls", "0", *extra)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_folder_holding_something_else_is_refused(requests_file, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    result = run("distil", "--input", requests_file, "--out", taken, "--no-store")
    assert result.returncode == 2 and "is not empty and holds no student" in result.stderr
    assert (taken / "notes.txt").read_text() == "mine"


def test_with_only_a_corpus_the_model_writes_the_queries(tmp_path):
    base = tiny_bert(tmp_path / "base", WORDS)
    corpus = EXAMPLES / "flea.jsonl"
    result = run("distil", "--generate-queries", "2", "--corpus", corpus, "--depth", "3", "--out", tmp_path / "s",
                 "--from", base, "--epochs", "1", "--store", tmp_path / "store.sqlite")
    assert result.returncode == 0, result.stderr
    assert "written: 2 LLM calls" in result.stderr  # one query per passage (a repeated one is left out)
    written = json.loads((tmp_path / "s" / "distil.json").read_text())["inputs"]["generated_queries"]
    ids = {json.loads(line)["id"] for line in corpus.read_text().splitlines()}
    assert 1 <= len(written) <= 2 and all(w["query_id"].removeprefix("generated-for-") in ids for w in written)
    refused = run("distil", "--generate-queries", "2", "--input", corpus, "--out", tmp_path / "t")
    assert refused.returncode == 2 and "give --corpus (with --run and --topics" in refused.stderr
    # a run's queries and written ones together: the run's query, then the two written (from the store)
    run_file = tmp_path / "flea.run"
    run_file.write_text("".join(f"q Q0 {d} {n + 1} {10 - n} bm25\n" for n, d in enumerate(sorted(ids))))
    both = run("distil", "--run", run_file, "--topics", EXAMPLES / "flea.topics", "--corpus", corpus,
               "--generate-queries", "2", "--depth", "3", "--out", tmp_path / "both", "--from", base, "--epochs", "1",
               "--store", tmp_path / "store.sqlite")
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout)["lessons"] == 1 + len(written)
    assert "written: 0 LLM calls" in both.stderr and "3 new calls" in both.stderr  # only the run's query is new
