"""Ranking requests from a first-stage run, its topics and its corpus: the BEIR and pyserini workflow.

    judgerank rerank --run bm25.trec --topics queries.jsonl --corpus corpus.jsonl --depth 100

- run: a TREC run (qid Q0 docid rank score tag); each query's candidates are its top `depth`
  by score (ties by the file's order), the score kept as the first stage's.
- topics, by their content: BEIR's queries.jsonl ({"_id", "text"}), judgerank's own JSON lines
  ({"query_id", "query"}), a TREC topics file (<top> <num> ... <title> ...), or a TSV of
  qid <tab> query (MS MARCO's queries).
- corpus: BEIR's corpus.jsonl ({"_id", "title", "text"}; the title, when there is one, goes
  before the text), JSON lines {"id" or "docid", "text" or "contents"} (pyserini), or a TSV of
  docid <tab> text (MS MARCO's collection); gzipped when the name ends in .gz. It is read line by
  line and only the passages the run's cut names are kept, so a corpus of millions of passages
  is never held in memory.

A query or passage the run names and the topics or corpus lack is an error naming it and the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from judgerank.core.errors import JudgerankError, shown
from judgerank.core.types import Item, Query, Request
from judgerank.io.files import reading
from judgerank.io.jsonl import loads
from judgerank.io.trec import read_run_with_tag


def read_run_requests(run: str | Path, topics: str | Path, corpus: str | Path, depth: int = 100) -> list[Request]:
    """One request per query of the run, in the run's query order, with its top `depth` passages."""
    ranked, _ = read_run_with_tag(run)
    cut = {qid: sorted(scores, key=lambda d: -scores[d])[:depth] for qid, scores in ranked.items()}
    queries = read_topics(topics)
    missing = [qid for qid in cut if qid not in queries]
    if missing:
        raise JudgerankError(f"{topics}: no query {shown(missing[0], 40)} of {run} ({len(missing)} of its "
                             f"{len(cut)} queries are missing): give the topics the run was made with")
    texts = read_corpus(corpus, {d for docs in cut.values() for d in docs})
    return [Request(Query(qid, queries[qid]), tuple(Item(d, texts[d], ranked[qid][d]) for d in docs))
            for qid, docs in cut.items()]


def read_topics(path: str | Path) -> dict[str, str]:
    """{query id: query text} from any of the topic layouts above."""
    with reading(path) as fh:
        text = fh.read()
    start = text.lstrip()[:1]
    if start == "{":
        return _json_topics(path, text)
    if "<top>" in text:
        return _trec_topics(path, text)
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        qid, tab, query = line.partition("\t")
        if not tab or not query.strip():
            raise JudgerankError(f"{path}:{number}: a topics line is 'qid<TAB>query' (or give BEIR's queries.jsonl "
                                 f"or a TREC topics file): {shown(line)}")
        found[qid.strip()] = query.strip()
    if not found:
        raise JudgerankError(f"{path}: no topics in file")
    return found


def _json_topics(path: str | Path, text: str) -> dict[str, str]:
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        qid, query, _ = _record(path, number, line, ("_id", "query_id", "qid"), ("text", "query"),
                                '{"_id", "text"} (BEIR) or {"query_id", "query"}', "topic")
        found[qid] = query
    return found


def _trec_topics(path: str | Path, text: str) -> dict[str, str]:
    found = {}
    for block in re.findall(r"<top>(.*?)</top>", text, re.S):
        num = re.search(r"<num>\s*(?:Number:)?\s*(\S+)", block)
        title = re.search(r"<title>\s*(?:Topic:)?\s*(.*?)\s*(?=<[a-z]+>|$)", block, re.S)
        if num is None or title is None or not title[1].strip():
            raise JudgerankError(f"{path}: a <top> without a <num> or a <title>: {shown(block.strip())}")
        found[num[1]] = " ".join(title[1].split())
    return found


def iter_corpus(path: str | Path) -> Iterator[tuple[str, str]]:
    """Each passage of a corpus as (docid, text), one line at a time."""
    with reading(path) as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield _passage(path, number, line)


def read_corpus(path: str | Path, wanted: set[str]) -> dict[str, str]:
    """The texts of the `wanted` passages, reading the corpus one line at a time."""
    found: dict[str, str] = {}
    for docid, text in iter_corpus(path):
        if docid in wanted:
            found[docid] = text
            if len(found) == len(wanted):
                break
    missing = sorted(wanted - set(found))
    if missing:
        raise JudgerankError(f"{path}: no passage {shown(missing[0], 40)} ({len(missing)} of the {len(wanted)} passages "
                             "the run names are missing): give the corpus the run was made from")
    return found


def _passage(path: str | Path, number: int, line: str) -> tuple[str, str]:
    if line.lstrip().startswith("{"):
        docid, body, record = _record(path, number, line, ("_id", "docid", "id"), ("text", "contents"),
                                      '{"_id", "title", "text"} (BEIR) or {"id", "contents"} (pyserini)', "passage")
        title = record.get("title")
        return docid, f"{title}. {body}" if isinstance(title, str) and title.strip() else body
    docid, tab, body = line.rstrip("\n").partition("\t")
    if not tab:
        raise JudgerankError(f"{path}:{number}: a corpus line is 'docid<TAB>text', or a JSON passage: {shown(line)}")
    return docid.strip(), body.strip()


def _record(path: str | Path, number: int, line: str, ids: tuple[str, ...], texts: tuple[str, ...], layout: str,
            what: str) -> tuple[str, str, dict]:
    """(id, text, the record) of a JSON line, the id and the text under the first of their names it has."""
    record = loads(line, path, number)
    found = record if isinstance(record, dict) else {}
    key = next((found[k] for k in ids if k in found), None)
    text = next((found[k] for k in texts if k in found), None)
    if key is None or not isinstance(text, str):
        raise JudgerankError(f"{path}:{number}: a {what} is {layout}")
    return str(key), text, found
