"""Fixtures every test folder shares, and the markers that say what a test needs.

Markers (make test-fast leaves out every one but the fast tests): llm (the embedded llama.cpp
model), embed (the embedding model), data (../shared/data), postgres (a PostgreSQL server),
ray (a local Ray cluster), browser (Chromium), slow (over ten seconds). data and postgres are
added here from the fixtures a test uses, so no test can forget them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import DATA, Stub

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")  # the adapter tests send Haystack no telemetry


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "data" in fixtures:
            item.add_marker(pytest.mark.data)
        if "postgres" in fixtures or "postgres_url" in fixtures:
            item.add_marker(pytest.mark.postgres)
        if "chromium" in fixtures:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"evaluation data not found at {DATA} (../shared/data beside the repo)")
    return DATA


@pytest.fixture
def chromium(tmp_path: Path) -> list[str]:
    """Headless Debian chromium with the flags this closed network needs: the command to which a
    test adds --dump-dom or --screenshot and a URL. Skips where it is not installed (make test
    installs it), except under CI, where it fails."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: CI must run the browser tests (make test installs it)")
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    return [found, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}"]


@pytest.fixture
def stub() -> Callable[..., Stub]:
    """Make a stub backend: stub(identity, similarity=..., choices=...) (helpers.Stub)."""
    return Stub


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL server on loopback for the session (see helpers/postgres.py)."""
    pytest.importorskip("psycopg", reason="psycopg not installed (the [postgres] extra)")
    from helpers.postgres import PostgresServer

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
def postgres_url(postgres: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the session's server for one test."""
    import psycopg

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name}")
        db.execute(f"CREATE DATABASE {name}")
    return postgres.url(name)


@pytest.fixture(scope="session")
def _graphs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the embedding's ONNX graph for the session: built once, not once a test."""
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _graphs: Path) -> None:
    """No test reads or writes the user's real judgment store (each its own home; the built
    embedding graph shared)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "onnx").symlink_to(_graphs, target_is_directory=True)
    monkeypatch.setenv("JUDGERANK_HOME", str(home))
    monkeypatch.delenv("JUDGERANK_STORE", raising=False)
