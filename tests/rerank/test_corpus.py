"""Reranking a first-stage run against its topics and corpus (the BEIR / pyserini workflow)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from judgerank.core.errors import JudgerankError
from judgerank.rerank.corpus import read_corpus, read_run_requests, read_topics

RUN = "q1 Q0 d3 1 9.5 bm25\nq1 Q0 d1 2 7.0 bm25\nq1 Q0 d2 3 7.0 bm25\nq2 Q0 d2 1 3.0 bm25\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _beir(tmp_path: Path) -> tuple[Path, Path, Path]:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in [
        {"_id": "d1", "title": "Fleas", "text": "Fleas live two to three months."},
        {"_id": "d2", "title": "", "text": "The Eiffel tower is in Paris."},
        {"_id": "d3", "title": "Flea life cycle", "text": "Egg, larva, pupa, adult."},
        {"_id": "d4", "title": "Unused", "text": "Never named by the run."},
    ]))
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"_id": "q1", "text": "flea life"}) + "\n" + json.dumps({"_id": "q2", "text": "paris"}) + "\n")
    return _write(tmp_path / "run.trec", RUN), queries, corpus


def test_a_beir_run_becomes_requests_by_score_with_titles_before_texts(tmp_path: Path) -> None:
    requests = read_run_requests(*_beir(tmp_path))
    assert [r.query.id for r in requests] == ["q1", "q2"] and requests[0].query.text == "flea life"
    first = requests[0].items
    assert [i.id for i in first] == ["d3", "d1", "d2"]  # by score; the tie (7.0) in the file's order
    assert first[0].text == "Flea life cycle. Egg, larva, pupa, adult." and first[0].score == 9.5
    assert first[2].text == "The Eiffel tower is in Paris."  # an empty title adds nothing
    assert [i.id for i in read_run_requests(*_beir(tmp_path), depth=2)[0].items] == ["d3", "d1"]


def test_topics_in_every_layout(tmp_path: Path) -> None:
    trec = _write(tmp_path / "topics.301", "<top>\n<num> Number: 301\n<title> International Organized Crime\n\n"
                  "<desc> Description:\nIdentify organizations.\n</top>\n<top>\n<num> Number: 302 \n<title>Poliomyelitis "
                  "and Post-Polio\n<desc>\n...\n</top>\n")
    assert read_topics(trec) == {"301": "International Organized Crime", "302": "Poliomyelitis and Post-Polio"}
    tsv = _write(tmp_path / "queries.tsv", "1048585\twhat is paula deen's brother\n2\tflea\n")
    assert read_topics(tsv) == {"1048585": "what is paula deen's brother", "2": "flea"}
    ours = _write(tmp_path / "q.jsonl", json.dumps({"query_id": 7, "query": "seven"}) + "\n")
    assert read_topics(ours) == {"7": "seven"}
    with pytest.raises(JudgerankError, match=r"bad\.tsv:1: a topics line is 'qid<TAB>query'"):
        read_topics(_write(tmp_path / "bad.tsv", "no tab here\n"))


def test_a_corpus_is_read_line_by_line_keeping_only_what_the_run_names(tmp_path: Path) -> None:
    collection = tmp_path / "collection.tsv.gz"
    with gzip.open(collection, "wt", encoding="utf-8") as fh:
        for n in range(50_000):
            fh.write(f"{n}\tpassage number {n}\n")
        fh.write("this line is never reached, so never parsed\n")
    assert read_corpus(collection, {"7", "49999"}) == {"7": "passage number 7", "49999": "passage number 49999"}
    pyserini = _write(tmp_path / "c.jsonl", json.dumps({"id": "a", "contents": "alpha"}) + "\n")
    assert read_corpus(pyserini, {"a"}) == {"a": "alpha"}


def test_what_the_run_names_and_the_files_lack_is_one_line(tmp_path: Path) -> None:
    run, queries, corpus = _beir(tmp_path)
    with pytest.raises(JudgerankError, match=r"queries\.jsonl: no query 'q3' of .*run3\.trec \(1 of its 1 queries"):
        read_run_requests(_write(tmp_path / "run3.trec", "q3 Q0 d1 1 1.0 x\n"), queries, corpus)
    with pytest.raises(JudgerankError, match=r"corpus\.jsonl: no passage 'd9' \(1 of the 1 passages"):
        read_run_requests(_write(tmp_path / "run9.trec", "q1 Q0 d9 1 1.0 x\n"), queries, corpus)


def test_the_cli_asks_for_all_three_files(tmp_path: Path) -> None:
    run, queries, corpus = _beir(tmp_path)
    done = subprocess.run([sys.executable, "-m", "judgerank", "rerank", "--run", str(run), "--topics", str(queries)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "needs --run, --topics and --corpus: add --corpus" in done.stderr


@pytest.mark.embed
def test_the_cli_reranks_a_run_against_its_corpus(tmp_path: Path) -> None:
    run, queries, corpus = _beir(tmp_path)
    out = tmp_path / "reranked.trec"
    done = subprocess.run([sys.executable, "-m", "judgerank", "rerank", "--run", str(run), "--topics", str(queries),
                           "--corpus", str(corpus), "--method", "embedding", "--out", str(out), "--store",
                           str(tmp_path / "s.sqlite")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in out.read_text().splitlines()]
    assert [d for q, _, d, *_ in lines if q == "q1"][-1] == "d2"  # both flea passages above Paris
    assert {q for q, *_ in lines} == {"q1", "q2"} and len(lines) == 4
