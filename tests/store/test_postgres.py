"""The PostgreSQL judgment store against a real server (tests/postgres.py): the same answers as
SQLite, safe under concurrent writers and jobs, and one clear error for a bad URL."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys

import pytest

from judgerank.core.errors import StoreError
from judgerank.store import open_store
from judgerank.store.postgres import PostgresStore, redact

pytest.importorskip("psycopg")

VALUES = [("k1", {"p": [0.25, 0.75], "n": 3}), ("k2", [1, 2, "three"]), ("k3", "ünïcode ✓"), ("k4", None), ("k5", 1e-300)]


def test_values_come_back_as_sqlite_returns_them(postgres_url, tmp_path):
    pg, lite = open_store(postgres_url), open_store(tmp_path / "c.sqlite")
    assert isinstance(pg, PostgresStore)
    for store in (pg, lite):
        store.put_many(VALUES)
        store.put_many([("k1", "a later value is ignored: a key names one judgment")])
    keys = ["k1", "k2", "k3", "k4", "k5", "missing", "k1"]
    assert pg.get_many(keys) == {k: v for k, v in VALUES}
    assert len(pg) == 5
    assert pg.get_many([]) == {}
    pg.close(), lite.close()


def test_store_url_from_the_environment(postgres_url, monkeypatch):
    monkeypatch.setenv("JUDGERANK_STORE", postgres_url)
    store = open_store("default")
    assert isinstance(store, PostgresStore)
    store.close()


def _writer(url: str, worker: int, rounds: int) -> None:
    store = PostgresStore(url)  # every process opens (and so prepares) the store at once
    for r in range(rounds):
        # overlapping keys: every worker writes k0..k199, and keys of its own
        store.put_many([(f"k{(r * 50 + i) % 200}", {"v": (r * 50 + i) % 200}) for i in range(50)]
                       + [(f"w{worker}-{r}", worker)])
    store.close()


def test_concurrent_writers_in_processes(postgres_url):
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_writer, args=(postgres_url, w, 20)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = PostgresStore(postgres_url)
    assert len(store) == 200 + 4 * 20
    assert store.get_many(["k7", "w3-19"]) == {"k7": {"v": 7}, "w3-19": 3}
    store.close()


def test_a_newer_schema_is_refused(postgres_url):
    import psycopg

    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE judgerank_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer judgerank"):
        PostgresStore(postgres_url)


def test_bad_urls_are_one_clear_error_without_the_password(postgres, tmp_path):
    wrong = postgres.url(password="not-the-password")
    with pytest.raises(StoreError, match=r"password authentication failed.*check the user and password") as caught:
        PostgresStore(wrong)
    assert "not-the-password" not in str(caught.value) and ":***@" in str(caught.value)
    with pytest.raises(StoreError, match="is PostgreSQL running"):
        PostgresStore("postgresql://judgerank:pw@127.0.0.1:1/judgerank", connect_timeout=3)
    with pytest.raises(StoreError, match="create the database first"):
        PostgresStore(postgres.url("no_such_db"))
    assert redact("postgresql://u:p%40ss@h:5/d") == "postgresql://u:***@h:5/d"
    # the CLI: exit 2, one line, before any model work or output
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": "x"}) + "\n")
    done = subprocess.run([sys.executable, "-m", "judgerank", "rerank", "--query", "q", "--docs", docs, "--method",
                           "pointwise", "--store", wrong, "--out", tmp_path / "run.trec"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "password authentication failed" in done.stderr, done.stderr
    assert "not-the-password" not in done.stderr + done.stdout
    assert not list(tmp_path.glob("run.trec*"))


def test_two_concurrent_jobs_share_one_store(postgres_url, tmp_path):
    """Two rerank jobs at once on one PostgreSQL store, then a third: the third asks nothing."""
    from helpers import graded_request

    grades = [float(g % 4) for g in range(30)]
    requests = [graded_request(grades, f"q{n}") for n in range(4)]
    lines, table = [], {}
    for r in requests:
        lines.append(json.dumps({"query_id": r.query.id, "query": r.query.text,
                                 "candidates": [{"docid": i.id, "content": i.text} for i in r.items]}))
        table.update({i.text: g for i, g in zip(r.items, grades)})
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "g.json").write_text(json.dumps(table))
    command = [sys.executable, "-m", "judgerank", "rerank", "--input", tmp_path / "in.jsonl", "--method", "pointwise",
               "--model", f"simulated:{tmp_path / 'g.json'}", "--store", postgres_url]
    jobs = [subprocess.Popen([*command, "--out", tmp_path / f"run{n}.trec"], stderr=subprocess.PIPE, text=True)
            for n in range(2)]
    errors = [j.communicate(timeout=120)[1] for j in jobs]
    assert [j.returncode for j in jobs] == [0, 0], errors
    assert (tmp_path / "run0.trec").read_text() == (tmp_path / "run1.trec").read_text()
    third = subprocess.run([*command, "--out", tmp_path / "run2.trec"], capture_output=True, text=True)
    assert third.returncode == 0 and "0 LLM calls" in third.stderr and "120 cache hits" in third.stderr, third.stderr
    store = PostgresStore(postgres_url)
    # each judgment stored once, whichever job made it, and each passage's and query's vector (the
    # guard's support check reads the embedding)
    assert len(store) == 120 + 120 + 4
    store.close()
