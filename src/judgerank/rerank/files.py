"""Reading ranking requests: our JSONL, rank_llm-style JSON, or a query plus a file of passages.

JSONL request: {"query_id": "q1", "query": "...", "candidates": [{"id": "d1", "text": "...", "score": 12.3}]}
rank_llm JSON: [{"query": "...", "hits": [{"qid": 1, "docid": "d1", "content": "...", "score": 12.3}]}], or
  rank_llm's current Request/Result layout: [{"query": {"text": "...", "qid": 1},
  "candidates": [{"docid": "d1", "score": 12.3, "doc": {"contents": "..."}}]}] (what --out NAME.json writes)
A candidate's "score" (the first stage's, optional) is kept for methods that show it (--insert-scores).
Passages JSONL (with --query): {"id": "d1", "text": "..."} per line; "id" defaults to the line number.
Every error names the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judgerank.core.errors import JudgerankError
from judgerank.core.types import Query, Ranking, Request
from judgerank.io.files import read_text
from judgerank.io.jsonl import item_of, loads, parse_jsonl


def read_requests(path: str | Path) -> list[Request]:
    """Requests from a JSONL file, or from a rank_llm-style JSON list (detected by its '[')."""
    text = read_text(path)
    if text.lstrip().startswith("["):
        return _read_rank_llm(path, text)
    requests = []
    for number, record in parse_jsonl(text.splitlines(), path):
        where = f"{path}:{number}"
        query = record.get("query")
        if not isinstance(query, str) or not query.strip():
            raise JudgerankError(f"{where}: missing 'query' string")
        candidates = record.get("candidates")
        if not isinstance(candidates, list):
            raise JudgerankError(f"{where}: missing 'candidates' list")
        if not candidates:
            raise JudgerankError(f"{where}: empty candidate list")
        items = tuple(item_of(c, where, str(n)) for n, c in enumerate(candidates, 1))
        requests.append(Request(Query(str(record.get("query_id", number)), query), items))
    if not requests:
        raise JudgerankError(f"{path}: no requests in file")
    return requests


def _read_rank_llm(path: str | Path, text: str) -> list[Request]:
    data = loads(text, path)
    if not isinstance(data, list):
        raise JudgerankError(f"{path}: expected a JSON list of {{'query': str, 'hits': [...]}}")
    requests = []
    for n, entry in enumerate(data, 1):
        where = f"{path}: entry {n}"
        query = entry.get("query") if isinstance(entry, dict) else None
        hits = entry.get("hits", entry.get("candidates")) if isinstance(entry, dict) else None
        asked = query.get("text") if isinstance(query, dict) else query
        if not isinstance(asked, str) or not isinstance(hits, list):
            raise JudgerankError(f"{where}: expected {{'query': str, 'hits': [...]}} or {{'query': {{'text', 'qid'}}, "
                                 "'candidates': [...]}}")
        if not hits:
            raise JudgerankError(f"{where}: empty candidate list")
        first = hits[0]
        qid = str(query.get("qid", n) if isinstance(query, dict) else first.get("qid", n) if isinstance(first, dict) else n)
        items = tuple(item_of(_flat(h), where, str(k)) for k, h in enumerate(hits, 1))
        requests.append(Request(Query(qid, asked), items))
    if not requests:
        raise JudgerankError(f"{path}: no requests in file")
    return requests


def _flat(hit: object) -> object:
    """A rank_llm candidate with its text inside "doc" ({"contents"} or {"text"} or {"segment"}), flattened."""
    if isinstance(hit, dict) and isinstance(hit.get("doc"), dict):
        doc = hit["doc"]
        text = doc.get("contents", doc.get("text", doc.get("segment")))
        return {k: v for k, v in hit.items() if k != "doc"} | ({"text": text} if text is not None else {})
    return hit


def rank_llm_result(ranking: Ranking, request: Request) -> dict[str, Any]:
    """A ranking in rank_llm's Result layout (what `--out NAME.json` writes, one per query): the
    query, the candidates best first with their text and a score that falls by one a rank (the
    method's own score and costs under "judgerank")."""
    texts = {i.id: i.text for i in request.items}
    n = len(ranking.ids)
    return {"query": {"text": request.query.text, "qid": request.query.id},
            "candidates": [{"docid": d, "score": float(n - rank), "doc": {"contents": texts[d]}}
                           for rank, d in enumerate(ranking.ids)],
            "judgerank": {"method": ranking.method, "complete": ranking.complete, "scores": ranking.scores,
                          "costs": ranking.costs.as_dict()}}


def read_passages(path: str | Path, query: str, query_id: str = "q") -> Request:
    """One request: a query given on the command line, passages from a JSONL file."""
    items = tuple(item_of(record, f"{path}:{n}", str(n)) for n, record in parse_jsonl(read_text(path).splitlines(), path))
    if not items:
        raise JudgerankError(f"{path}: empty candidate list")
    return Request(Query(query_id, query), items)
