"""Shared fixtures: the evaluation data beside the repo, and simulated judging jobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from judgerank.backends.simulated import SimulatedBackend
from judgerank.types import Item, Query, Request

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")  # the adapter tests send Haystack no telemetry

DATA = Path(os.environ.get("JUDGERANK_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")).resolve()


@pytest.fixture
def data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"evaluation data not found at {DATA} (../shared/data beside the repo)")
    return DATA


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on loopback for the session (see tests/postgres.py)."""
    pytest.importorskip("psycopg", reason="psycopg not installed (the [postgres] extra)")
    from postgres import PostgresServer

    try:
        server = PostgresServer()
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}: CI must run the PostgreSQL tests (make test installs the package)")
        pytest.skip(str(exc))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres, request) -> str:
    """A fresh, empty database on the session's server for one test."""
    import psycopg

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name}")
        db.execute(f"CREATE DATABASE {name}")
    return postgres.url(name)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """No test reads or writes the user's real judgment cache."""
    monkeypatch.setenv("JUDGERANK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JUDGERANK_STORE", raising=False)


def graded_request(grades: list[float], qid: str = "q1") -> Request:
    """Items whose simulated relevance is grades[i]; item ids are d0, d1, ... in input order."""
    items = tuple(Item(f"d{i}", f"passage number {i} on topic {qid} with filler text {i * 7919}") for i in range(len(grades)))
    return Request(Query(qid, f"query {qid}"), items)


def simulated(request: Request, grades: list[float], **kwargs) -> SimulatedBackend:
    return SimulatedBackend({i.text: g for i, g in zip(request.items, grades)}, **kwargs)
