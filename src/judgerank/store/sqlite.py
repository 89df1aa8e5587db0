"""The SQLite judgment store: one file, shared safely by threads and processes.

Each thread (and each process after a fork) gets its own connection; the file is in WAL mode, so
readers never wait for writers, and every write is one short IMMEDIATE transaction with a busy
timeout. The file is checked when opened: something that is not a judgerank store, or a corrupt
one, is refused with a one-line error and left untouched. A file the user cannot write is opened
read-only: cached judgments are served, new ones are not kept.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from judgerank.backends.models import cache_dir
from judgerank.core.errors import StoreError
from judgerank.store.base import log, seal, unsealed
from judgerank.store.wal import lost_commits

APPLICATION_ID = 0x4A52414E  # "JRAN": marks a file as a judgerank cache (PRAGMA application_id)
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
CHUNK = 500  # keys per SELECT: below SQLite's limit on bound parameters


def default_store_path() -> Path:
    return cache_dir() / "judgments.sqlite"


class SQLiteStore:
    """Judgments in one SQLite file (see the module docstring for the guarantees)."""

    def __init__(self, path: str | Path, *, readonly: bool | None = None) -> None:
        self.path = Path(path).expanduser()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._closed = False
        self._check_file()
        if readonly is None:
            readonly = self.path.exists() and not os.access(self.path, os.W_OK)
        self.readonly = readonly
        if not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"store {self.path}: cannot create its folder ({exc.strerror})") from None
        try:
            self._open()
        except StoreError as exc:
            if readonly or "read-only" not in str(exc):
                raise
            self._drop_connections()  # the file exists but cannot be written: serve what it holds
            self.readonly = True
            self._open()

    # --- opening ---------------------------------------------------------------------------

    def _open(self) -> None:
        with self._errors("open"):
            self._prepare(self._connection())

    def _check_file(self) -> None:
        # Only stat() the file: opening and closing it outside SQLite (to read its header, say)
        # would release every POSIX lock this process holds on it, the shared locks of any other
        # store on the same file included; another process could then checkpoint and delete the
        # WAL under them, and the file is corrupt. SQLite itself refuses a file that is not a
        # database (SQLITE_NOTADB), before anything is written to it.
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"store {self.path}: not a file; give --store a file path")
        lost = lost_commits(self.path.with_name(self.path.name + "-wal"))
        if lost:
            log.warning("judgment store %s: its write-ahead log is damaged: %d committed writes after the damage are "
                        "lost (their judgments are asked again when next needed)", self.path, lost)
        if self.path.is_file() and self.path.stat().st_size == 0:  # a store was expected here, and none is
            log.warning("judgment store %s was an empty file (0 bytes): a new, empty store is made in it, so "
                        "judgments kept before are not there", self.path)

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                 isolation_level=None, check_same_thread=False)
            try:
                db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            except sqlite3.OperationalError:
                # WAL files it may not create (read-only media): read the main file as it stands
                db.close()
                db = sqlite3.connect(f"file:{self.path}?immutable=1", uri=True, isolation_level=None,
                                     check_same_thread=False)
        else:
            # each connection serves one thread; check_same_thread=False only lets close() run anywhere
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash; WAL keeps it consistent
        return db

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():  # a forked child never reuses its parent's
            if self._closed:
                raise StoreError(f"store {self.path}: used after close()")
            db = self._connect()
            self._local.db, self._local.pid = db, os.getpid()
            with self._guard:
                self._connections.append(db)
            # closed when its thread is gone: a server's worker threads come and go (anyio retires
            # idle ones), and each left its connection open, two file descriptors a thread, until
            # the process ran out and every request failed (found by bench/fuzz_endpoints.py)
            weakref.finalize(threading.current_thread(), self._retire, db)
        return db

    def _retire(self, db: sqlite3.Connection) -> None:
        """Close a connection whose thread has ended."""
        with self._guard:
            if db not in self._connections:
                return  # close() has closed it already
            self._connections.remove(db)
        try:
            db.close()
        except sqlite3.Error:
            pass

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Check what the file holds, before anything is written to it (not even its header);
        then create the table in a new file, under a write lock, so processes that open a fresh
        file at the same instant create it once."""
        if self._check_schema(db):
            self._check_integrity(db)
        if self.readonly:
            return
        self._wal(db)
        db.execute("BEGIN IMMEDIATE")
        try:
            if not self._check_schema(db):
                db.execute("CREATE TABLE judgments (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _wal(self, db: sqlite3.Connection) -> None:
        # Switching to WAL needs a moment alone with the file; another process opening it at the
        # same instant makes the switch report the old mode, so try again until it holds.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                if db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal":
                    return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked (could not switch it to WAL mode)")
            time.sleep(0.01)

    def _check_schema(self, db: sqlite3.Connection) -> list[str]:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        columns = [r[1] for r in db.execute("PRAGMA table_info(judgments)")]
        # caches written before application_id was set hold just this table
        ours = app_id == APPLICATION_ID or (app_id == 0 and tables == ["judgments"])
        if tables and not (ours and columns == ["key", "value"]):
            raise StoreError(
                f"store {self.path}: not a judgerank store (an SQLite file with other tables); it was left "
                "untouched: give --store another path"
            )
        return tables

    def _check_integrity(self, db: sqlite3.Connection) -> None:
        problems = [r[0] for r in db.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError(f"corrupt: {problems[0]}")

    @property
    def location(self) -> str:
        return str(self.path)

    # --- reading and writing ---------------------------------------------------------------

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except sqlite3.Error as exc:
            text = " ".join(str(exc).split())[:160]  # one line, whatever SQLite reports
            if "file is not a database" in text:
                raise StoreError(f"store {self.path}: not a judgerank store (not an SQLite file, or a damaged "
                                 "one); it was left untouched: give --store another path") from None
            if "locked" in text or "busy" in text:
                hint = f"another program held it for over {BUSY_TIMEOUT_S:g} s; try again, or use another --store"
            elif "readonly" in text or "read-only" in text:
                hint = "the file is read-only; use --no-store or another --store"
            else:
                hint = "the file is damaged or not a judgerank store; it was left untouched: give --store another path"
            raise StoreError(f"store {self.path}: cannot {doing} ({text}); {hint}") from None

    def get_many(self, keys: Sequence[str]) -> dict[str, object]:
        found: dict[str, object] = {}
        unique = list(dict.fromkeys(keys))
        with self._errors("read"):
            db = self._connection()
            for start in range(0, len(unique), CHUNK):
                chunk = unique[start : start + CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT key, value FROM judgments WHERE key IN ({marks})", chunk)
                found.update(unsealed(str(self.path), rows))
        return found

    def put_many(self, items: Iterable[tuple[str, object]]) -> None:
        """Write and commit the items in one transaction; a read-only store keeps nothing."""
        rows = [(k, seal(k, v)) for k, v in items]
        if not rows or self.readonly:
            return
        with self._errors("write"):
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO judgments VALUES (?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._errors("read"):
            return int(self._connection().execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        self._closed = True
        self._drop_connections()

    def _drop_connections(self) -> None:
        with self._guard:
            connections, self._connections = self._connections, []
        for db in connections:
            try:
                db.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
