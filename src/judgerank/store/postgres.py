"""The PostgreSQL judgment store: one database shared by every worker of every job.

Selected by a URL (`--store postgresql://user:password@host:5432/db`, or JUDGERANK_STORE). The
same interface and values as the SQLite store: a judgment is a JSON text under its content key.
A connection pool serves the threads of a process; each write is one transaction of batched
upserts, and `ON CONFLICT DO NOTHING` makes two workers judging the same thing at once safe
(both values are the same judgment; the first stays). The schema is created by judgerank under an
advisory lock, so workers starting together create it once, and versioned in judgerank_meta.

Opening checks the server at once: a wrong password, an unreachable host or a missing database
is one StoreError naming the URL (its password hidden) and what to fix, before any model work.
Needs `pip install "judgerank[postgres]"` (psycopg 3 and psycopg-pool).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from judgerank.core.errors import StoreError, needs_extra
from judgerank.store.base import seal, unsealed

SCHEMA_VERSION = 1
LOCK_ID = 0x4A52414E  # the advisory lock taken while the schema is made ("JRAN")
CHUNK = 5_000  # keys per SELECT and rows per INSERT


def redact(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def is_postgres_url(spec: object) -> bool:
    return isinstance(spec, str) and bool(re.match(r"postgres(ql)?://", spec))


class PostgresStore:
    """Judgments in a PostgreSQL database (see the module docstring for the guarantees)."""

    readonly = False

    def __init__(self, url: str, *, max_connections: int = 8, connect_timeout: float = 10.0) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError as exc:
            raise StoreError(f"store {redact(url)}: {needs_extra('PostgreSQL', 'postgres', hint=str(exc))}") from None
        self.url = url
        self.shown = redact(url)
        self._psycopg = psycopg
        self._check_connection(connect_timeout)  # one clear error before the pool starts retrying
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=True, timeout=connect_timeout,
                                    kwargs={"autocommit": False, "connect_timeout": max(1, int(connect_timeout))})
        try:
            with self._errors("prepare"):
                self._prepare()
        except BaseException:
            self._pool.close()  # not left for the garbage collector, whose thread cannot join the pool's
            raise

    def _check_connection(self, timeout: float) -> None:
        try:
            self._psycopg.connect(self.url, connect_timeout=max(1, int(timeout))).close()
        except self._psycopg.Error as exc:
            raise StoreError(f"store {self.shown}: cannot connect ({_first_line(exc)}); {_hint(exc)}") from None

    def _prepare(self) -> None:
        with self._pool.connection() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
            db.execute("CREATE TABLE IF NOT EXISTS judgerank_meta (key text PRIMARY KEY, value text NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS judgerank_judgments (key text PRIMARY KEY, value text NOT NULL)")
            db.execute("INSERT INTO judgerank_meta VALUES ('schema_version', %s) ON CONFLICT (key) DO NOTHING",
                       (str(SCHEMA_VERSION),))
            row = db.execute("SELECT value FROM judgerank_meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else SCHEMA_VERSION
        if version > SCHEMA_VERSION:
            raise StoreError(f"store {self.shown}: made by a newer judgerank (schema {version} > {SCHEMA_VERSION}); "
                             "upgrade judgerank or use another database")

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:  # psycopg and pool errors: one line naming the store
            if isinstance(exc, self._psycopg.Error) or type(exc).__module__.startswith("psycopg_pool"):
                raise StoreError(f"store {self.shown}: cannot {doing} ({_first_line(exc)}); {_hint(exc)}") from None
            raise

    @property
    def location(self) -> str:
        return self.shown

    def get_many(self, keys: Sequence[str]) -> dict[str, object]:
        unique = list(dict.fromkeys(keys))
        found: dict[str, object] = {}
        if not unique:
            return found
        damaged: list[tuple[str, str]] = []
        with self._errors("read"), self._pool.connection() as db:
            for start in range(0, len(unique), CHUNK):
                rows = db.execute("SELECT key, value FROM judgerank_judgments WHERE key = ANY(%s)",
                                  (unique[start : start + CHUNK],))
                found.update(unsealed(self.location, rows, damaged))
            for key, stored in damaged:  # gone, so that the judgment made again takes its place
                db.execute("DELETE FROM judgerank_judgments WHERE key = %s AND value = %s", (key, stored))
        return found

    def put_many(self, items: Iterable[tuple[str, object]]) -> None:
        """Write the items in one transaction; a key already there keeps its value."""
        rows = [(k, seal(k, v)) for k, v in items]
        if not rows:
            return
        with self._errors("write"), self._pool.connection() as db:  # commits on leaving, rolls back on error
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                db.execute(
                    "INSERT INTO judgerank_judgments (key, value) SELECT * FROM unnest(%s::text[], %s::text[]) "
                    "ON CONFLICT (key) DO NOTHING",
                    ([k for k, _ in chunk], [v for _, v in chunk]),
                )

    def __len__(self) -> int:
        with self._errors("read"), self._pool.connection() as db:
            row = db.execute("SELECT COUNT(*) FROM judgerank_judgments").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._pool.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a PostgresStore is not sent between processes: give each worker the URL")


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _hint(exc: BaseException) -> str:
    text = str(exc).lower()
    if "password" in text or "authentication" in text:
        return "check the user and password in the URL (or PGPASSWORD)"
    if "does not exist" in text and "database" in text:
        return "create the database first (createdb), or name one that exists"
    if "refused" in text or "timeout" in text or "could not translate" in text or "no route" in text:
        return "is PostgreSQL running and reachable at that host and port?"
    return "check the URL and the server's log"
