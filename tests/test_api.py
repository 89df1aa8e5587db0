"""The Python surface a newcomer meets: the names it exports and their types, plain inputs
accepted, clear TypeErrors, a type checker that rejects misuse, old names that still work for a
release, and an import that stays light."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import pytest
from helpers import graded_request, simulated

import judgerank
from judgerank import Item, Judge, Query, Reranker
from judgerank.arena import ratings as leaderboard_module
from judgerank.core.errors import JudgerankError

TYPED = Path(__file__).resolve().parent / "typed"


def test_the_exported_names_are_the_facades_records_and_errors():
    assert set(judgerank.__all__) == {
        "DEFAULT_JUDGE_METHOD", "DEFAULT_METHOD", "DEFAULT_RERANK_METHOD", "Anchor", "Assessment", "Assessor",
        "BackendError", "Bootstrap",
        "BradleyTerry", "Budget", "Copeland", "Costs", "Elo", "Item", "Judge", "JudgerankError", "Juror", "Jury",
        "JuryResult", "Leaderboard", "PageRank", "PairJudgment", "PairTask", "PairsJudged", "Preference", "Query",
        "RankCentrality", "RankedResponses", "Ranking", "Request", "Reranker", "ResponseJudge", "Runtime", "Sandwich",
        "StoreError", "WinRate", "__version__", "as_items", "as_query", "leaderboard",
    }
    assert judgerank.__version__ == version("judgerank")
    assert judgerank.leaderboard is leaderboard_module.leaderboard
    assert judgerank.Judge.__module__ == "judgerank.judge.judge" and judgerank.Reranker.__module__ == "judgerank.rerank.reranker"
    assert inspect.isclass(judgerank.Reranker) and inspect.isfunction(judgerank.leaderboard)
    assert issubclass(judgerank.StoreError, judgerank.JudgerankError)
    for hidden in ("Path", "Sequence", "Any", "importlib"):
        assert not hasattr(judgerank, hidden)
    with pytest.raises(AttributeError):
        judgerank.nonexistent  # noqa: B018


def test_the_facades_have_one_shape():
    """Reranker and Judge: (method, model, *, store, runtime, budget, ...); the same verbs."""
    for facade in (Reranker, Judge):
        params = list(inspect.signature(facade).parameters.values())
        assert [p.name for p in params[:2]] == ["method", "model"]
        keyword_only = {p.name for p in params if p.kind == p.KEYWORD_ONLY}
        assert {"store", "runtime", "budget"} <= keyword_only
        for verb in ("rank", "rank_many", "close", "__enter__", "__exit__"):
            assert callable(getattr(facade, verb)), (facade, verb)
    assert callable(Judge.compare) and callable(judgerank.Jury.compare) and callable(judgerank.Jury.close)


def test_every_public_callable_has_a_docstring():
    missing = []
    for name in judgerank.__all__:
        obj = getattr(judgerank, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not inspect.getdoc(obj):
                missing.append(name)
            if inspect.isclass(obj) and not issubclass(obj, Exception):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member) and not inspect.getdoc(member):
                        missing.append(f"{name}.{attr}")
    assert missing == []


def test_leaderboards_take_plain_battles(tmp_path):
    board = judgerank.leaderboard([("gpt", "llama", 1), ("llama", "gpt", 0.5), ("gpt", "llama", 1.0)],
                                  judgerank.WinRate())
    assert [r.player for r in board.rows] == ["gpt", "llama"]
    records = [{"model_a": "x", "model_b": "y", "winner": "model_b"}, {"model_a": "x", "model_b": "y", "winner": "tie"}]
    assert [r.player for r in judgerank.leaderboard(records, judgerank.WinRate()).rows] == ["y", "x"]
    path = tmp_path / "b.csv"
    path.write_text("model_a,model_b,winner\nx,y,model_b\n")
    assert judgerank.leaderboard(str(path), judgerank.WinRate()).rows[0].player == "y"
    with pytest.raises(TypeError, match="battle 0"):
        judgerank.leaderboard([42], judgerank.WinRate())  # type: ignore[list-item]


def test_plain_inputs_and_type_errors():
    with Reranker("embedding", store=None) as reranker:
        with pytest.raises(TypeError, match="not int"):
            reranker.rank("q", 5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="item 1"):
            reranker.rank("q", ["fine", 3.5])  # type: ignore[list-item]
    request = graded_request([0.0, 3.0])
    texts = [i.text for i in request.items]
    with Judge(store=None, backend=simulated(request, [0.0, 3.0])) as judge:
        result = judge.rank("which is better?", texts)  # a string prompt and string responses
        assert result.best == "1"
        assert judge.rank(Query("p", "which?"), [Item("a", texts[0]), {"id": "b", "text": texts[1]}]).best == "b"
        with pytest.raises(TypeError, match="query"):
            judge.rank(7, texts)  # type: ignore[arg-type]
    with pytest.raises(JudgerankError, match="unknown option 'topk'"):
        Reranker("pointwise", store=None, topk=5)  # type: ignore[call-arg]
    with pytest.raises(JudgerankError, match="unknown option 'window'"):
        Judge("allpairs", store=None, backend=simulated(request, [0.0, 3.0]), window=5)  # type: ignore[call-arg]


def test_old_names_still_work_for_a_release_and_say_what_replaced_them(tmp_path):
    request = graded_request([0.0, 3.0])
    backend = simulated(request, [0.0, 3.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Reranker("pointwise", cache=tmp_path / "c.sqlite", backend=backend) as reranker:
            assert reranker.rerank(request).ids == ["d1", "d0"]
        with judgerank.ResponseJudge(None, method="allpairs", store=None, backend=backend) as judge:
            assert judge.rank("q", [i.text for i in request.items]).best == "1"
        board = leaderboard_module.arena([("a", "b", 1.0), ("b", "a", 1.0)], "bradley-terry", bootstrap=20)
        assert board.settings["bootstrap"] == 20
    said = " ".join(str(w.message) for w in caught if issubclass(w.category, DeprecationWarning))
    for new in ("store=", "rank(query, docs)", "Judge(method, model)", "judgerank.leaderboard()"):
        assert new in said


@pytest.mark.slow
def test_a_type_checker_accepts_the_usage_and_rejects_every_misuse():
    """mypy on tests/typed: usage.py clean; misuse.py an error on every line marked for one."""
    mypy = pytest.importorskip("mypy.api")
    report, _, status = mypy.run(["--no-incremental", "--config-file", str(TYPED.parents[1] / "pyproject.toml"),
                                  str(TYPED / "usage.py")])
    assert status == 0, report
    report, _, _ = mypy.run(["--no-incremental", "--config-file", str(TYPED.parents[1] / "pyproject.toml"),
                             str(TYPED / "misuse.py")])
    flagged = {int(n) for n in re.findall(r"misuse\.py:(\d+): error", report)}
    marked = {n for n, line in enumerate((TYPED / "misuse.py").read_text().splitlines(), 1) if "  # error:" in line}
    assert marked and marked <= flagged, report


def test_import_judgerank_stays_light():
    heavy = ["torch", "transformers", "sentence_transformers", "llama_cpp", "ray", "fastapi", "psycopg", "matplotlib",
             "sklearn", "langchain_core", "llama_index", "haystack", "pyterrier", "mcp", "httpx"]
    code = f"import sys, judgerank; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
