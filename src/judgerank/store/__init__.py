"""The judgment store: where every finished judgment is kept, so that it is never paid for twice.

`open_store` turns what a user gives (a path, "default", an open store, None) into a store.
"""

from __future__ import annotations

from pathlib import Path

from judgerank.store.base import JudgmentStore, judgment_key
from judgerank.store.sqlite import SQLiteStore, default_store_path

__all__ = ["JudgmentStore", "SQLiteStore", "default_store_path", "judgment_key", "open_store"]

StoreSpec = str | Path | JudgmentStore | None


def open_store(spec: StoreSpec) -> JudgmentStore | None:
    """A store from a path, "default" (the user cache), an open store (returned as is), or None."""
    if spec is None or isinstance(spec, JudgmentStore):
        return spec
    return SQLiteStore(default_store_path() if spec == "default" else spec)
