"""How a job hears its judge, through the facades and the command line: a user's prompt and rubric
in place of the built-in ones, explanations, and the options' checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import EXAMPLES, Stub, graded_request, simulated

from judgerank.backends.simulated import SimulatedBackend
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Item, Query
from judgerank.judge import Judge, PairTask
from judgerank.rerank import Reranker

PROMPT, RUBRIC = EXAMPLES / "judge-prompt.toml", EXAMPLES / "rubric-helpfulness.toml"
RELEVANCE = EXAMPLES / "relevance-prompt.toml"
RESPONSES = {"short": 4.0, "wrong": 0.0, "vague": 2.0}  # examples/responses.jsonl, by id: their simulated grades


def test_a_prompt_of_ones_own_replaces_the_built_in_one_of_its_kind() -> None:
    request = graded_request([0.0, 3.0, 1.0])
    stub = Stub(choices=lambda r: [0.0, -1.0])
    with Reranker("pointwise", backend=stub, store=None, prompt=str(RELEVANCE), verdicts="logprobs") as reranker:
        reranker.rank(request.query, request.items)
    assert stub.requests and all(r.choices == ("true", "false") for r in stub.requests)
    assert all(r.messages[-1][1].startswith("Determine if the following passage") for r in stub.requests)
    assert all(r.template.startswith("relevance-true-false@") for r in stub.requests)


@pytest.mark.parametrize(("method", "options", "message"), [
    ("allpairs", {"prompt": str(RELEVANCE)}, r"a binary template, and this method asks for pairwise"),
    ("pointwise", {"rubric": str(RUBRIC)}, r"--rubric grades responses one at a time"),
    ("pointwise", {"prompt": str(RELEVANCE), "spotlight": "delimit"}, r"--spotlight marks the built-in"),
    ("pointwise", {"samples": 3, "temperature": 0.0}, r"--samples above 1 draws answers at a temperature"),
    ("pointwise", {"samples": 3, "verdicts": "logprobs"}, r"--samples and --reasoning ask for verdicts in words"),
    ("pointwise", {"explain": True, "verdicts": "logprobs"}, r"--explain reports what the judge said in words"),
    ("pointwise", {"verdicts": "words"}, r"--verdicts must be one of auto, logprobs, text"),
    ("pointwise", {"think_tokens": 4}, r"--think-tokens must be at least 16"),
    ("pointwise", {"prompt": "/no/such/file.toml"}, r"--prompt /no/such/file.toml: cannot read it"),
])
def test_bad_hearing_fails_when_the_reranker_is_made(method: str, options: dict, message: str) -> None:
    request = graded_request([0.0, 3.0])
    with pytest.raises(JudgerankError, match=message):
        Reranker(method, backend=simulated(request, [0.0, 3.0]), store=None, **options)


def test_a_judge_prompt_of_ones_own_decides_pairs_in_words() -> None:
    backend = SimulatedBackend({"right answer here": 4.0, "wrong answer there": 0.0})
    right, wrong = "right answer here", "wrong answer there"
    tasks = [PairTask("t0", Query("t0", "Say it."), Item("1", right), Item("2", wrong)),
             PairTask("t1", Query("t1", "Say it."), Item("1", wrong), Item("2", right))]
    with Judge("allpairs", backend=backend, store=None, prompt=str(PROMPT), verdicts="text", ratings=False,
               explain=True) as judge:
        done = judge.compare(tasks)
    assert [j.probability for j in done.judgments] == ["a", "b"]
    assert all(len(j.explanations or []) == 2 for j in done.judgments)  # both orders, each with what it said
    assert {e["verdict"] for j in done.judgments for e in j.explanations or []} <= {"A", "B"}


def test_a_rubric_of_ones_own_grades_each_response_in_prometheus_form() -> None:
    backend = SimulatedBackend({"a good answer": 5.0, "a poor answer": 1.0, "a fair answer": 3.0})
    items = [Item("g", "a good answer"), Item("p", "a poor answer"), Item("f", "a fair answer")]
    with Judge("pointwise", backend=backend, store=None, rubric=str(RUBRIC), verdicts="text", explain=True) as judge:
        result = judge.rank("Answer well.", items)
    assert result.ranking.ids == ["g", "f", "p"]
    assert [e["verdict"] for e in result.ranking.explanations or []] == ["5", "1", "3"]


# --- through the command line --------------------------------------------------------------------

CLI = [sys.executable, "-m", "judgerank"]


def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def _grades(tmp_path: Path) -> Path:
    texts = {json.loads(line)["responses"][n]["id"]: json.loads(line)["responses"][n]["text"]
             for line in (EXAMPLES / "responses.jsonl").read_text().splitlines() for n in range(3)}
    path = tmp_path / "grades.json"
    path.write_text(json.dumps({texts[rid]: grade for rid, grade in RESPONSES.items()}))
    return path


def test_the_example_prompt_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run("judge", EXAMPLES / "responses.jsonl", "--model", f"simulated:{_grades(tmp_path)}", "--no-store",
                 "--prompt", PROMPT, "--verdicts", "text", "--explain", "--no-ratings", "--out", out)
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text())
    assert record["best"] == "short" and [r["id"] for r in record["ranking"]] == ["short", "vague", "wrong"]
    assert len(record["explanations"]) == 6 and all(e["verdict"] in ("A", "B", "C") for e in record["explanations"])


def test_the_example_rubric_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run("judge", EXAMPLES / "responses.jsonl", "--mode", "pointwise", "--model",
                 f"simulated:{_grades(tmp_path)}", "--no-store", "--rubric", RUBRIC, "--verdicts", "text", "--out", out)
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text())
    assert [r["id"] for r in record["ranking"]] == ["short", "vague", "wrong"]
    # a verdict of 4 alone: (1 + 1/2) / (1 + 5/2) on 4, 1/7 on every other score
    assert record["ratings"]["short"]["expected"] == pytest.approx((1 + 2 + 3 + 5 + 4 * 3) / 7)


def test_a_bad_prompt_file_through_the_cli(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nkind = "verdict"\nchoices = ["A", "B", "C"]\nuser = "{question} {a}"\n')
    result = run("judge", EXAMPLES / "responses.jsonl", "--model", f"simulated:{_grades(tmp_path)}", "--no-store",
                 "--prompt", bad)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "never show {b}" in result.stderr


def test_the_options_are_in_the_help() -> None:
    for command in ("rerank", "judge"):
        shown = run(command, "--help").stdout
        for flag in ("--verdicts", "--samples", "--temperature", "--reasoning", "--think-tokens", "--explain",
                     "--prompt", "--rubric"):
            assert flag in shown, (command, flag)
