"""The judgment store: where every finished judgment is kept, so that it is never paid for twice.

`open_store` turns what a user gives (a path, a postgresql:// URL, "default", an open store,
None) into a store. "default" is JUDGERANK_STORE when set (a path or URL), else the user's
SQLite cache.
"""

from __future__ import annotations

import os
from pathlib import Path

from judgerank.store.base import JudgmentStore, judgment_key
from judgerank.store.postgres import PostgresStore, is_postgres_url
from judgerank.store.sqlite import SQLiteStore, default_store_path

__all__ = ["JudgmentStore", "SQLiteStore", "default_store_path", "judgment_key", "open_store"]

StoreSpec = str | Path | JudgmentStore | None


def open_store(spec: StoreSpec) -> JudgmentStore | None:
    """A store from a path, a postgresql:// URL, "default", an open store (as is), or None."""
    if spec is None or isinstance(spec, JudgmentStore):
        return spec
    if spec == "default":
        spec = os.environ.get("JUDGERANK_STORE") or default_store_path()
    if is_postgres_url(spec):
        return PostgresStore(str(spec))
    return SQLiteStore(spec)
