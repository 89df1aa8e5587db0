"""Persistent SQLite store of judgments, and the wrapper that puts it in front of any backend.

Each result is committed as soon as it is computed, so a killed job loses at most the judgment in
flight, and a re-run of the same job asks the backend nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from judgerank.accounting import Ledger
from judgerank.backends.base import (
    ChoiceBackend,
    ChoiceRequest,
    ChoiceResult,
    GenerateRequest,
    Generation,
    SimilarityBackend,
    TextBackend,
)
from judgerank.backends.models import cache_dir
from judgerank.errors import JudgerankError


class JudgmentCache:
    """Key-value store of JSON judgments; keys are content hashes (model, template, inputs)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.commit()
        except (OSError, sqlite3.DatabaseError) as exc:
            raise JudgerankError(f"cache {self.path}: cannot open ({exc})") from exc

    @staticmethod
    def key(*parts: object) -> str:
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, object]:
        found: dict[str, object] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, value FROM judgments WHERE key IN ({marks})", chunk)
            found.update((k, json.loads(v)) for k, v in rows)
        return found

    def put(self, key: str, value: object) -> None:
        self._db.execute("INSERT OR REPLACE INTO judgments VALUES (?, ?)", (key, json.dumps(value)))
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0]

    def close(self) -> None:
        self._db.close()


def default_cache_path() -> Path:
    return cache_dir() / "judgments.sqlite"


def open_cache(cache: str | Path | JudgmentCache | None) -> JudgmentCache | None:
    """A JudgmentCache from a path, "default" (the user cache), an open cache, or None."""
    if cache is None or isinstance(cache, JudgmentCache):
        return cache
    return JudgmentCache(default_cache_path() if cache == "default" else cache)


class CachedChoices:
    """A ChoiceBackend behind the cache and the job's Ledger: what judges actually call."""

    def __init__(self, backend: ChoiceBackend, cache: JudgmentCache | None, ledger: Ledger) -> None:
        self.backend = backend
        self.cache = cache
        self.ledger = ledger

    def choice_logprobs(self, requests: Sequence[ChoiceRequest]) -> list[ChoiceResult]:
        keys = [JudgmentCache.key(self.backend.identity, r.template, r.messages, r.choices) for r in requests]
        return _through_cache(
            self.cache, self.ledger, keys, requests, self.backend.iter_choice_logprobs, _choice_to_json, _choice_from_json
        )


class CachedGenerations:
    """A TextBackend behind the cache and the job's Ledger."""

    def __init__(self, backend: TextBackend, cache: JudgmentCache | None, ledger: Ledger) -> None:
        self.backend = backend
        self.cache = cache
        self.ledger = ledger

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        keys = [
            JudgmentCache.key(self.backend.identity, r.template, r.messages, "generate", r.max_tokens) for r in requests
        ]
        return _through_cache(
            self.cache, self.ledger, keys, requests, self.backend.iter_generate, _generation_to_json, _generation_from_json
        )


def _through_cache(
    cache: JudgmentCache | None,
    ledger: Ledger,
    keys: list[str],
    requests: Sequence,
    compute: Callable[[list], Iterator[tuple[int, ChoiceResult | Generation]]],
    to_json: Callable[[ChoiceResult | Generation], dict],
    from_json: Callable[[object], ChoiceResult | Generation],
) -> list:
    """Stored results for the keys found; the rest computed, each stored and charged as it
    arrives, so a stop (Budget, failure, kill) keeps every finished one."""
    stored = cache.get_many(keys) if cache is not None else {}
    results = {k: from_json(v) for k, v in stored.items()}
    ledger.hit(sum(1 for k in keys if k in results))
    todo = {k: r for k, r in zip(keys, requests) if k not in results}
    if todo:
        ledger.check(len(todo))
        todo_keys = list(todo)
        for done, (index, result) in enumerate(compute(list(todo.values())), 1):
            key = todo_keys[index]
            results[key] = result
            if cache is not None:
                cache.put(key, to_json(result))
            ledger.charge(
                prompt_tokens=result.prompt_tokens,
                evaluated_tokens=result.evaluated_tokens,
                completion_tokens=result.completion_tokens,
                retries=result.retries,
            )
            if done < len(todo):
                ledger.check_tokens()  # finished judgments stay cached when this stops the job
    return [results[k] for k in keys]


class CachedSimilarities:
    """A SimilarityBackend behind the cache and the job's Ledger."""

    def __init__(self, backend: SimilarityBackend, cache: JudgmentCache | None, ledger: Ledger) -> None:
        self.backend = backend
        self.cache = cache
        self.ledger = ledger

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        keys = [JudgmentCache.key(self.backend.identity, "similarity", query, t) for t in texts]
        found = self.cache.get_many(keys) if self.cache is not None else {}
        self.ledger.hit(sum(1 for k in keys if k in found))
        todo = {k: t for k, t in zip(keys, texts) if k not in found}
        if todo:
            values = self.backend.similarities(query, list(todo.values()))
            self.ledger.embedded(len(todo))
            for key, value in zip(todo, values):
                found[key] = value
                if self.cache is not None:
                    self.cache.put(key, value)
        return [float(found[k]) for k in keys]


def _generation_to_json(result: Generation) -> dict:
    return {"text": result.text, "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens}


def _generation_from_json(value: object) -> Generation:
    assert isinstance(value, dict)
    return Generation(value["text"], value["prompt_tokens"], value["completion_tokens"])


def _choice_to_json(result: ChoiceResult) -> dict:
    return {"logprobs": list(result.logprobs), "prompt_tokens": result.prompt_tokens}


def _choice_from_json(value: object) -> ChoiceResult:
    assert isinstance(value, dict)
    return ChoiceResult(tuple(value["logprobs"]), value["prompt_tokens"], 0)
