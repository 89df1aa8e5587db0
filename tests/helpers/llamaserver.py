"""A real `python -m llama_cpp.server` on loopback, running the embedded GGUF (SmolLM2-135M)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from judgerank.backends.models import resolve_gguf


@contextmanager
def llama_server() -> Iterator[int]:
    """The server's port, once it answers; stopped on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(resolve_gguf(None)), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "4096", "--verbose", "False"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.time() > deadline:
                assert process.stderr is not None
                raise RuntimeError(f"llama_cpp.server did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
        yield port
    finally:
        process.terminate()
        process.wait(30)
