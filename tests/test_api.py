"""The Python surface a newcomer meets: names that exist, plain inputs accepted, clear TypeErrors."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest
from conftest import graded_request, simulated

import judgerank
from judgerank import Item, Query, ResponseJudge


def test_public_names_exist_and_helpers_stay_hidden():
    for name in judgerank.__all__:
        assert getattr(judgerank, name) is not None
    assert judgerank.__version__ == version("judgerank")
    for hidden in ("Path", "Sequence", "Any"):
        assert not hasattr(judgerank, hidden)
    assert callable(judgerank.arena.arena) and judgerank.responses.ResponseJudge is ResponseJudge
    assert callable(judgerank.aggregate.bradley_terry)  # a function, not a module
    with pytest.raises(AttributeError):
        judgerank.nonexistent  # noqa: B018


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


def test_arena_takes_plain_battles(tmp_path):
    board = judgerank.arena.arena([("gpt", "llama", 1), ("llama", "gpt", 0.5), ("gpt", "llama", 1.0)], "win-rate")
    assert [r.player for r in board.rows] == ["gpt", "llama"]
    records = [{"model_a": "x", "model_b": "y", "winner": "model_b"}, {"model_a": "x", "model_b": "y", "winner": "tie"}]
    assert [r.player for r in judgerank.arena.arena(records, "win-rate").rows] == ["y", "x"]
    path = tmp_path / "b.csv"
    path.write_text("model_a,model_b,winner\nx,y,model_b\n")
    assert judgerank.arena.arena(str(path), "win-rate").rows[0].player == "y"
    with pytest.raises(TypeError, match="battle 0"):
        judgerank.arena.arena([42], "win-rate")


def test_plain_inputs_and_type_errors():
    with pytest.raises(TypeError, match="not int"):
        judgerank.rerank("q", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item 1"):
        judgerank.rerank("q", ["fine", 3.5])  # type: ignore[list-item]
    request = graded_request([0.0, 3.0])
    texts = [i.text for i in request.items]
    with ResponseJudge(cache=None, backend=simulated(request, [0.0, 3.0])) as judge:
        result = judge.rank("which is better?", texts)  # a string prompt and string responses
        assert result.best == "1"
        assert judge.rank(Query("p", "which?"), [Item("a", texts[0]), {"id": "b", "text": texts[1]}]).best == "b"
        with pytest.raises(TypeError, match="query"):
            judge.rank(7, texts)  # type: ignore[arg-type]
