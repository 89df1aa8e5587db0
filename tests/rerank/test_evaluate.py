"""Our measures against trec_eval's own expected output and against ir-measures."""

from __future__ import annotations

import pytest

from judgerank.core.errors import JudgerankError
from judgerank.io.trec import read_qrels, read_run_with_tag
from judgerank.rerank.evaluate import Measure, evaluate, format_trec_eval, trec_eval_standard


def _expected(path):
    rows = {}
    for line in path.read_text().splitlines():
        if line.strip():
            name, qid, value = (x.strip() for x in line.split("\t"))
            rows[(name, qid)] = value
    return rows


def _ours(data):
    ref = data / "reference" / "trec_eval"
    rows = trec_eval_standard(read_run_with_tag(ref / "results.test")[0], read_qrels(ref / "qrels.test"), with_ndcg=True)
    return {(n, q): format_trec_eval(n, q, v).split("\t")[2] for n, q, v in rows}


def test_reproduces_trec_eval_out_test(data):
    expected = _expected(data / "reference" / "trec_eval" / "out.test")
    ours = _ours(data)
    checked = [k for k in expected if k[0] != "runid"]
    assert len(checked) == 29
    assert {k: ours.get(k) for k in checked} == {k: expected[k] for k in checked}


def test_reproduces_trec_eval_ndcg_per_query_and_cutoffs(data):
    expected = _expected(data / "reference" / "trec_eval" / "out.test.aq")
    ours = _ours(data)
    ndcg = [k for k in expected if k[0] == "ndcg" or k[0].startswith("ndcg_cut_")]
    assert len(ndcg) == 40  # 3 queries + all, 10 measures each
    assert {k: ours[k] for k in ndcg} == {k: expected[k] for k in ndcg}


def test_per_query_standard_measures_match_out_test_aq(data):
    expected = _expected(data / "reference" / "trec_eval" / "out.test.aq")
    ours = _ours(data)
    shared = [k for k in ours if k in expected]
    assert len(shared) > 100
    assert {k: ours[k] for k in shared} == {k: expected[k] for k in shared}


def test_agrees_with_ir_measures_on_dl19(data):
    ir_measures = pytest.importorskip("ir_measures")
    dl = data / "trec-dl19"
    run, qrels = read_run_with_tag(dl / "bm25_top100_dl19.run")[0], read_qrels(dl / "qrels.dl19-passage.txt")
    pairs = {
        "ndcg@10": "nDCG@10", "ndcg@20": "nDCG@20", "ndcg": "nDCG", "p@10": "P(rel=2)@10",
        "recall@100": "R(rel=2)@100", "map": "AP(rel=2)", "mrr@10": "RR(rel=2)@10", "mrr": "RR(rel=2)",
    }
    ours = evaluate(run, qrels, list(pairs), relevance_level=2)
    theirs = ir_measures.calc_aggregate([ir_measures.parse_measure(m) for m in pairs.values()], qrels, run)
    for mine, name in pairs.items():
        assert ours.mean[mine] == pytest.approx(theirs[ir_measures.parse_measure(name)], abs=1e-9), mine
    assert round(ours.mean["ndcg@10"], 4) == 0.5058


def test_dl19_bm25_matches_published_reference_metrics(data):
    dl = data / "trec-dl19"
    run, qrels = read_run_with_tag(dl / "bm25_top100_dl19.run")[0], read_qrels(dl / "qrels.dl19-passage.txt")
    rel1 = evaluate(run, qrels, ["p@10", "map", "ndcg@10", "ndcg@20", "ndcg@5", "recall@100", "mrr"])
    assert {k: round(v, 4) for k, v in rel1.mean.items()} == {
        "p@10": 0.6186, "map": 0.2993, "ndcg@10": 0.5058, "ndcg@20": 0.4914, "ndcg@5": 0.5278,
        "recall@100": 0.4531, "mrr": 0.8245,
    }


def test_ties_break_by_docno_descending():
    qrels = {"q": {"a": 1, "b": 0}}
    # equal scores: trec_eval puts "b" before "a", so the relevant doc is at rank 2
    assert evaluate({"q": {"a": 1.0, "b": 1.0}}, qrels, ["mrr"]).mean["mrr"] == 0.5


@pytest.mark.parametrize("bad", ["ndcg@0", "p", "recall", "bpref@3", "bogus", "ndcg@x"])
def test_unknown_measure_is_a_clear_error(bad):
    with pytest.raises(JudgerankError, match="unknown measure"):
        Measure.parse(bad)


def test_no_shared_query_is_an_error():
    with pytest.raises(JudgerankError, match="share no query"):
        evaluate({"a": {"d": 1.0}}, {"b": {"d": 1}}, ["map"])
