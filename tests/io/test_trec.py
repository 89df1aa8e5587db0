"""TREC runs and qrels: a ranking written and read back in its order, and the errors that name the bad line."""

from __future__ import annotations

import pytest

from judgerank.core.errors import JudgerankError
from judgerank.core.types import Ranking
from judgerank.io.trec import read_qrels, read_run_with_tag, run_lines


def test_trec_files_round_trip(tmp_path):
    run_path = tmp_path / "run.trec"
    run_path.write_text("\n".join(run_lines(Ranking("q1", ["b", "a", "c"], [None, None, None], "m"), "tag")) + "\n")
    run, tag = read_run_with_tag(run_path)
    assert sorted(run["q1"], key=lambda d: -run["q1"][d]) == ["b", "a", "c"] and tag == "tag"
    (tmp_path / "qrels").write_text("q1 0 a 2\nq1 0 b 0\n")
    assert read_qrels(tmp_path / "qrels") == {"q1": {"a": 2, "b": 0}}


def test_bad_trec_lines(tmp_path):
    (tmp_path / "qrels").write_text("q1 0 a 2\nq1 0 b high\n")
    with pytest.raises(JudgerankError, match=r"qrels:2: grade 'high'"):
        read_qrels(tmp_path / "qrels")
    (tmp_path / "run").write_text("q1 Q0 a\n")
    with pytest.raises(JudgerankError, match=r"run:1: a run line has 6 columns .*this one has 3"):
        read_run_with_tag(tmp_path / "run")
    (tmp_path / "bad").write_bytes(b"q1 Q0 a 1 \xff\xfe x\n")
    with pytest.raises(JudgerankError, match=r"bad: not UTF-8 text"):
        read_run_with_tag(tmp_path / "bad")
