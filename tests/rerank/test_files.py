"""Reading rerank request files (JSONL, rank_llm JSON, passages), and the errors that name the bad line."""

from __future__ import annotations

import json

import pytest

from judgerank.core.errors import JudgerankError
from judgerank.rerank.files import read_passages, read_requests


def test_jsonl_requests(tmp_path):
    p = tmp_path / "r.jsonl"
    p.write_text(
        json.dumps({"query_id": "7", "query": "q", "candidates": [{"id": "a", "text": "A", "score": 2},
                                                                   {"id": "b", "text": "B"}]})
        + "\n\n"
        + json.dumps({"query": "r", "candidates": ["plain text"]})
        + "\n"
    )
    first, second = read_requests(p)
    assert first.query.id == "7" and [i.id for i in first.items] == ["a", "b"]
    assert [i.score for i in first.items] == [2.0, None]
    assert second.query.id == "3" and second.items[0].id == "1" and second.items[0].text == "plain text"


def test_rank_llm_json(data):
    requests = read_requests(data / "trec-dl19" / "bm25_top100_dl19.json")
    assert len(requests) == 43
    assert all(len(r.items) == 100 for r in requests)
    assert requests[0].query.text == "how long is life cycle of flea"
    assert requests[0].query.id == "264014" and requests[0].items[0].id == "5611210"
    assert requests[0].items[0].score == pytest.approx(15.7806, abs=1e-4)  # BM25's, kept for --insert-scores


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"query": "q", "candidates": [{"id": "a", "text": "x"}]}\n{oops\n', r":2: malformed JSON"),
        ('{"query": "q"}\n', r":1: missing 'candidates'"),
        ('{"query": "q", "candidates": []}\n', r":1: empty candidate list"),
        ('{"candidates": [{"id": "a", "text": "x"}]}\n', r":1: missing 'query'"),
        ('{"query": "q", "candidates": [{"id": "a"}]}\n', r":1: candidate has no 'text'"),
        ('{"query": "q", "candidates": [{"id": "a", "text": "x", "score": "high"}]}\n',
         r":1: candidate 'a': 'score' must be a finite number, not 'high'"),
        ('{"query": "q", "candidates": [{"id": "a", "text": "x", "score": 1e999}]}\n', r"'score' must be a finite"),
        ('{"query": "q", "candidates": [{"id": "a", "text": "x", "score": true}]}\n', r"'score' must be a finite"),
        ('"a string"\n', r"\.jsonl:1: expected a JSON object"),
        ("[1, 2]\n", r"entry 1: expected \{'query'"),
        ("", r"no requests"),
    ],
)
def test_bad_requests_name_the_line(tmp_path, content, message):
    p = tmp_path / "bad.jsonl"
    p.write_text(content)
    with pytest.raises(JudgerankError, match=message):
        read_requests(p)


def test_missing_file(tmp_path):
    with pytest.raises(JudgerankError, match="no such file"):
        read_requests(tmp_path / "nope.jsonl")


def test_passages_default_ids(tmp_path):
    p = tmp_path / "docs.jsonl"
    p.write_text('{"text": "first"}\n{"id": "x", "text": "second"}\n')
    request = read_passages(p, "query")
    assert [(i.id, i.text) for i in request.items] == [("1", "first"), ("x", "second")]


def test_out_json_is_rank_llms_result_layout_and_reads_back(tmp_path):
    """Issue 37: rank_llm-style JSON as an output format (it was JSON lines under a .json name)."""
    import json
    import subprocess
    import sys

    grades = {f"passage {i} about fleas": float(g) for i, g in enumerate([0, 3, 1])}
    (tmp_path / "grades.json").write_text(json.dumps(grades))
    requests = tmp_path / "r.jsonl"
    requests.write_text("".join(json.dumps({"query_id": q, "query": f"fleas {q}", "candidates": [
        {"id": f"d{i}", "text": t} for i, t in enumerate(grades)]}) + "\n" for q in ("q1", "q2")))
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, "-m", "judgerank", "rerank", "--input", str(requests), "--method", "pointwise",
                           "--model", f"simulated:{tmp_path / 'grades.json'}", "--no-store", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())  # one JSON list, rank_llm's Result per query
    assert [r["query"] for r in results] == [{"text": "fleas q1", "qid": "q1"}, {"text": "fleas q2", "qid": "q2"}]
    first = results[0]["candidates"]
    assert [c["docid"] for c in first] == ["d1", "d2", "d0"] and [c["score"] for c in first] == [3.0, 2.0, 1.0]
    assert first[0]["doc"] == {"contents": "passage 1 about fleas"} and results[0]["judgerank"]["method"] == "pointwise"
    again = read_requests(out)  # the same file is a rank_llm input
    assert again[0].query.id == "q1" and [i.id for i in again[0].items] == ["d1", "d2", "d0"]
    assert again[0].items[0].text == "passage 1 about fleas" and again[0].items[0].score == 3.0
