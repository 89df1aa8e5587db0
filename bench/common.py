"""Shared by the bench scripts: where the evaluation data lives, and a table printer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import httpx

DATA = Path(os.environ.get("JUDGERANK_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")).resolve()
DL19 = DATA / "trec-dl19"


def require(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"missing {path}: benchmarks read ../shared/data (or set JUDGERANK_DATA)")
    return path


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Poll url until it answers 200; stop if the server process exits or time runs out."""
    deadline = time.time() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.time() > deadline:
            raise SystemExit(f"server at {url} did not start (exit code {process.poll()})")
        time.sleep(0.3)


def reopen_kept(path: Path, rows: list[dict]) -> TextIO:
    """Rewrite a resumable run's file with only its kept rows (dropping a line a stopped run was
    writing), atomically, and open it for appending: a run stopped at any moment, even before its
    first new row, never loses the rows it kept."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        fh.writelines(json.dumps(row) + "\n" for row in rows)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path.open("a")


@contextmanager
def llama_server(gguf: Path, alias: str, threads: int, n_ctx: int) -> Iterator[int]:
    """A real `python -m llama_cpp.server` on loopback serving `gguf` as `alias`: its port, once it
    answers; stopped on exit."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", alias,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads),
         "--n_threads_batch", str(threads), "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/v1/models", server)
        yield port
    finally:
        server.terminate()
        server.wait()
