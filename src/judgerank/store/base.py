"""What a judgment store offers: values by content key, written so that a crash loses nothing
finished. SQLite serves one machine; another engine implements the same three methods."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable


def judgment_key(*parts: object) -> str:
    """The content key of a judgment: a hash of everything that can change its result."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


@runtime_checkable
class JudgmentStore(Protocol):
    """Key-value store of JSON values, safe to share between threads (and processes, where the
    engine allows). `put_many` returns only after the values are durable."""

    readonly: bool

    @property
    def location(self) -> str:
        """Where the judgments are kept, for messages: a path, or a URL with its password hidden."""
        ...

    def get_many(self, keys: Sequence[str]) -> dict[str, object]: ...

    def put_many(self, items: Iterable[tuple[str, object]]) -> None: ...

    def close(self) -> None: ...
