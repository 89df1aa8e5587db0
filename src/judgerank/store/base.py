"""What a judgment store offers: values by content key, written so that a crash loses nothing
finished. SQLite serves one machine; another engine implements the same three methods.

Every value is stored sealed: its JSON text, a tab, and a checksum of the key and that text
(JSON never holds a raw tab). A value read back whose checksum does not match (a changed digit),
that is not JSON, or whose seal is cut short is damaged: the store reports it in one line naming
its key and leaves it out, so it is judged again and replaced, never served. Values written
before seals existed (no tab) are read as they are when they are JSON.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

log = logging.getLogger("judgerank.store")


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


class Damaged(ValueError):
    """A stored value that cannot be trusted: the reason, for the one-line report."""


def seal(key: str, value: object) -> str:
    """The text a store keeps for a value: its JSON, a tab, the checksum of key and JSON."""
    text = json.dumps(value)
    return f"{text}\t{_checksum(key, text)}"


def unseal(key: str, stored: str) -> object:
    """The value of a stored text, or Damaged."""
    text, tab, checksum = stored.rpartition("\t")
    if not tab:
        text = stored  # written before seals: trusted as far as it is JSON
    elif checksum != _checksum(key, text):
        raise Damaged("its checksum does not match its value")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise Damaged("its value is not JSON") from None


def unsealed(location: str, rows: Iterable[tuple[str, str]], damaged: list[tuple[str, str]] | None = None
             ) -> dict[str, object]:
    """The values of stored rows; each damaged one is reported in one line, left out (so it is
    judged again) and added to `damaged` as (key, stored text) for the store to remove."""
    found: dict[str, object] = {}
    for key, stored in rows:
        try:
            found[key] = unseal(key, stored)
        except Damaged as exc:
            report_damaged(location, key, str(exc))
            if damaged is not None:
                damaged.append((key, stored))
    return found


def report_damaged(location: str, key: str, why: str) -> None:
    """The one line that says a stored judgment cannot be trusted and is asked again."""
    log.warning("judgment store %s: the stored judgment %s is damaged (%s): it is judged again and replaced",
                location, key, why)


def _checksum(key: str, text: str) -> str:
    return hashlib.blake2b(f"{key}\0{text}".encode(), digest_size=8).hexdigest()
