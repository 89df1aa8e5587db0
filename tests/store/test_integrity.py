"""A store that notices damage (issue 39): a stored judgment whose digits changed, that is not
JSON or not a judgment is reported in one line naming its key, judged again and replaced, never
served; a store made in an empty file where one was expected says so."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys

import pytest
from helpers import graded_request, simulated

from judgerank import Reranker
from judgerank.store import SQLiteStore, open_store
from judgerank.store.base import Damaged, seal, unseal

GRADES = [0.0, 3.0, 1.0, 2.0]


def test_a_seal_holds_the_value_and_catches_a_changed_digit():
    stored = seal("k", {"p": [0.25, 0.75]})
    assert unseal("k", stored) == {"p": [0.25, 0.75]}
    with pytest.raises(Damaged, match="checksum"):
        unseal("k", stored.replace("0.25", "0.35"))
    with pytest.raises(Damaged, match="checksum"):
        unseal("other key", stored)  # a value moved to another key
    assert unseal("k", '{"p": [0.25, 0.75]}') == {"p": [0.25, 0.75]}  # written before seals: read as it is
    with pytest.raises(Damaged, match="not JSON"):
        unseal("k", '{"p": [0.25, 0.7')


def _first_row(path) -> tuple[str, str]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT key, value FROM judgments ORDER BY key LIMIT 1").fetchone()


def _set(path, key: str, value: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE judgments SET value = ? WHERE key = ?", (value, key))


@pytest.mark.parametrize("damage", ["digits", "not json", "not a judgment", "old and not json"])
def test_a_damaged_judgment_is_reported_judged_again_and_replaced(tmp_path, caplog, damage):
    request = graded_request(GRADES)
    path = tmp_path / "c.sqlite"
    first = Reranker("pointwise", store=path, backend=simulated(request, GRADES)).rank(request.query, request.items)
    key, stored = _first_row(path)
    text, checksum = stored.rsplit("\t", 1)
    damaged = {"digits": stored.replace("-", "-9", 1), "not json": "{broken\t" + checksum,
               "not a judgment": seal(key, [1, 2, 3]), "old and not json": "{broken"}[damage]
    assert damaged != stored
    _set(path, key, damaged)
    backend = simulated(request, GRADES)
    with caplog.at_level(logging.WARNING, logger="judgerank.store"):
        again = Reranker("pointwise", store=path, backend=backend).rank(request.query, request.items)
    assert backend.calls == 1 and again.costs.cache_hits == 3  # only the damaged one is asked again
    assert again.ids == first.ids and again.scores == pytest.approx(first.scores)
    [said] = [r.getMessage() for r in caplog.records]
    assert key in said and "damaged" in said and "judged again" in said
    assert unseal(key, _first_row(path)[1]) == unseal(key, stored)  # replaced by a sound judgment


def test_the_cli_reports_a_damaged_judgment_in_one_line_and_finishes(tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "a", "text": "fleas live three months"}\n{"id": "b", "text": "paris"}\n')
    path = tmp_path / "c.sqlite"
    command = [sys.executable, "-m", "judgerank", "rerank", "--query", "flea", "--docs", str(docs), "--method",
               "embedding", "--store", str(path)]
    assert subprocess.run(command, capture_output=True, text=True, timeout=300).returncode == 0
    key, _ = _first_row(path)
    _set(path, key, "not json at all")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "damaged" in line]
    assert len(notes) == 1 and key in notes[0] and "Traceback" not in result.stderr


def test_an_empty_file_where_a_store_was_expected_is_said(tmp_path, caplog):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="judgerank.store"):
        SQLiteStore(path).close()
    assert any("empty file (0 bytes)" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="judgerank.store"):
        SQLiteStore(path).close()  # now a store: nothing to say
        SQLiteStore(tmp_path / "new.sqlite").close()  # none expected: nothing to say
    assert caplog.records == []


def test_postgres_replaces_a_damaged_judgment(postgres_url, caplog):
    pytest.importorskip("psycopg")
    store = open_store(postgres_url)
    store.put_many([("pk1", {"p": 0.25}), ("pk2", {"p": 0.5})])
    import psycopg

    with psycopg.connect(postgres_url) as db:
        db.execute("UPDATE judgerank_judgments SET value = replace(value, '0.25', '0.75') WHERE key = 'pk1'")
    with caplog.at_level(logging.WARNING, logger="judgerank.store"):
        assert store.get_many(["pk1", "pk2"]) == {"pk2": {"p": 0.5}}
    assert any("pk1" in r.getMessage() for r in caplog.records)
    store.put_many([("pk1", {"p": 0.25})])  # the judgment made again takes its place
    assert store.get_many(["pk1"]) == {"pk1": {"p": 0.25}}
    store.close()


WRITER = """
import os, sys
from judgerank.store import SQLiteStore
store = SQLiteStore(sys.argv[1])
for n in range(6):
    store.put_many([(f"k{n}", {"n": n, "text": "x" * 500})])  # one commit each
os._exit(0)  # a crash: the connection is never closed, so the write-ahead log stays
"""


def test_damage_in_the_write_ahead_log_is_said(tmp_path, caplog):
    """SQLite replays a WAL up to its first bad frame and drops the rest without a word."""
    from judgerank.store.wal import FRAME_HEADER, HEADER, lost_commits

    path = tmp_path / "c.sqlite"
    subprocess.run([sys.executable, "-c", WRITER, str(path)], check=True, timeout=120)
    wal = path.with_name("c.sqlite-wal")
    data = bytearray(wal.read_bytes())
    page = int.from_bytes(data[8:12], "big")
    frames = (len(data) - HEADER) // (FRAME_HEADER + page)
    assert frames >= 6 and lost_commits(wal) == 0  # a sound log
    second = HEADER + (FRAME_HEADER + page) + FRAME_HEADER + 100  # a byte of the second frame's page
    data[second] ^= 0xFF
    wal.write_bytes(bytes(data))
    assert lost_commits(wal) >= 4
    with caplog.at_level(logging.WARNING, logger="judgerank.store"):
        store = SQLiteStore(path)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "write-ahead log is damaged" in said[0] and "committed writes" in said[0]
    assert "k5" not in store.get_many(["k5"])  # lost, as SQLite drops it; but now said
    store.close()
    # a torn last write, as a crash leaves, is no damage: nothing committed follows it
    subprocess.run([sys.executable, "-c", WRITER, str(tmp_path / "d.sqlite")], check=True, timeout=120)
    torn = tmp_path / "d.sqlite-wal"
    data = bytearray(torn.read_bytes())
    data[-50] ^= 0xFF
    torn.write_bytes(bytes(data))
    assert lost_commits(torn) == 0
