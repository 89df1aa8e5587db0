"""Reading ranking requests: our JSONL, rank_llm-style JSON, or a query plus a file of passages.

JSONL request: {"query_id": "q1", "query": "...", "candidates": [{"id": "d1", "text": "...", "score": 12.3}]}
rank_llm JSON: [{"query": "...", "hits": [{"qid": 1, "docid": "d1", "content": "...", "score": 12.3}]}]
A candidate's "score" (the first stage's, optional) is kept for methods that show it (--insert-scores).
Passages JSONL (with --query): {"id": "d1", "text": "..."} per line; "id" defaults to the line number.
Every error names the file and line.
"""

from __future__ import annotations

from pathlib import Path

from judgerank.core.errors import JudgerankError
from judgerank.core.types import Query, Request
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
        if not isinstance(entry, dict) or not isinstance(entry.get("query"), str) or not isinstance(entry.get("hits"), list):
            raise JudgerankError(f"{where}: expected {{'query': str, 'hits': [...]}}")
        if not entry["hits"]:
            raise JudgerankError(f"{where}: empty candidate list")
        first = entry["hits"][0]
        qid = str(first.get("qid", n) if isinstance(first, dict) else n)
        items = tuple(item_of(h, where, str(k)) for k, h in enumerate(entry["hits"], 1))
        requests.append(Request(Query(qid, entry["query"]), items))
    if not requests:
        raise JudgerankError(f"{path}: no requests in file")
    return requests


def read_passages(path: str | Path, query: str, query_id: str = "q") -> Request:
    """One request: a query given on the command line, passages from a JSONL file."""
    items = tuple(item_of(record, f"{path}:{n}", str(n)) for n, record in parse_jsonl(read_text(path).splitlines(), path))
    if not items:
        raise JudgerankError(f"{path}: empty candidate list")
    return Request(Query(query_id, query), items)
