"""Reading ranking requests: our JSONL, rank_llm-style JSON, or a query plus a file of passages.

JSONL request: {"query_id": "q1", "query": "...", "candidates": [{"id": "d1", "text": "...", "score": 12.3}]}
rank_llm JSON: [{"query": "...", "hits": [{"qid": 1, "docid": "d1", "content": "...", "score": 12.3}]}]
A candidate's "score" (the first stage's, optional) is kept for methods that show it (--insert-scores).
Passages JSONL (with --query): {"id": "d1", "text": "..."} per line; "id" defaults to the line number.
Every error names the file and line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from judgerank.errors import JudgerankError, shown
from judgerank.io.jsonl import loads, parse_jsonl
from judgerank.types import Item, Query, Request


def _open_text(path: str | Path) -> str:
    p = Path(path)
    if not p.is_file():
        raise JudgerankError(f"{p}: no such file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise JudgerankError(f"{p}: not UTF-8 text ({exc.reason})") from exc


def _jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    return parse_jsonl(_open_text(path).splitlines(), path)


def _item(record: object, where: str, default_id: str) -> Item:
    if isinstance(record, str):
        return Item(default_id, record)
    if not isinstance(record, dict):
        raise JudgerankError(f"{where}: a candidate must be an object with 'id' and 'text'")
    text = record.get("text", record.get("content", record.get("contents")))
    if not isinstance(text, str):
        raise JudgerankError(f"{where}: candidate has no 'text' string")
    raw_id = record.get("id", record.get("docid", default_id))
    return Item(str(raw_id), text, _score(record.get("score"), f"{where}: candidate {shown(str(raw_id), 40)}"))


def _score(value: object, where: str) -> float | None:
    """A first-stage score: absent, or a finite number."""
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        score = float(value)  # an integer of hundreds of digits overflows here
    except (TypeError, OverflowError):
        score = math.nan
    if not math.isfinite(score):
        raise JudgerankError(f"{where}: 'score' must be a finite number, not {shown(value, 30)}")
    return score


def read_requests(path: str | Path) -> list[Request]:
    """Requests from a JSONL file, or from a rank_llm-style JSON list (detected by its '[')."""
    text = _open_text(path)
    if text.lstrip().startswith("["):
        return _read_rank_llm(path, text)
    requests = []
    for number, record in _jsonl(path):
        where = f"{path}:{number}"
        query = record.get("query")
        if not isinstance(query, str) or not query.strip():
            raise JudgerankError(f"{where}: missing 'query' string")
        candidates = record.get("candidates")
        if not isinstance(candidates, list):
            raise JudgerankError(f"{where}: missing 'candidates' list")
        if not candidates:
            raise JudgerankError(f"{where}: empty candidate list")
        items = tuple(_item(c, where, str(n)) for n, c in enumerate(candidates, 1))
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
        items = tuple(_item(h, where, str(k)) for k, h in enumerate(entry["hits"], 1))
        requests.append(Request(Query(qid, entry["query"]), items))
    if not requests:
        raise JudgerankError(f"{path}: no requests in file")
    return requests


def read_passages(path: str | Path, query: str, query_id: str = "q") -> Request:
    """One request: a query given on the command line, passages from a JSONL file."""
    items = tuple(_item(record, f"{path}:{n}", str(n)) for n, record in _jsonl(path))
    if not items:
        raise JudgerankError(f"{path}: empty candidate list")
    return Request(Query(query_id, query), items)
