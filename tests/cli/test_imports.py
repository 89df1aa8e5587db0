"""What a command imports: `--version` nothing heavy, `--help` no model library, a warm default
rerank neither torch, llama.cpp nor ONNX Runtime (every vector comes from the store)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import EXAMPLES

HEAVY = ["numpy", "scipy", "scipy.special", "scipy.stats", "scipy.sparse", "torch", "llama_cpp", "onnxruntime",
         "tokenizers", "fastapi", "sentence_transformers", "transformers", "ray", "psycopg", "httpx", "pandas",
         "matplotlib"]
MODEL_LIBRARIES = {"torch", "llama_cpp", "onnxruntime", "tokenizers", "sentence_transformers", "transformers"}
FLEA = ["rerank", "--query", "how long is the life cycle of a flea", "--docs", str(EXAMPLES / "flea.jsonl"),
        "--format", "json"]


def loaded(args: list[str], home: Path) -> set[str]:
    """The heavy modules in sys.modules when `judgerank ARGS` exits."""
    code = ("import atexit, json, sys\n"
            f"atexit.register(lambda: print('LOADED' + json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)),"
            " file=sys.stderr))\n"
            f"sys.argv = ['judgerank', *{args!r}]\n"
            "from judgerank.cli import main\nmain()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={"JUDGERANK_HOME": str(home), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("LOADED"))
    return set(json.loads(line.removeprefix("LOADED")))


def test_version_imports_nothing_heavy(tmp_path: Path) -> None:
    assert loaded(["--version"], tmp_path) == set()


@pytest.mark.parametrize("args", [["--help"], ["rerank", "--help"], ["judge", "--help"], ["serve", "--help"]])
def test_help_imports_no_model_library_or_server(tmp_path: Path, args: list[str]) -> None:
    assert loaded(args, tmp_path) <= {"numpy", "scipy", "scipy.special"}


@pytest.mark.embed
def test_a_warm_default_rerank_loads_no_model(tmp_path: Path) -> None:
    first = loaded(FLEA, tmp_path)
    assert "onnxruntime" in first and not first & {"torch", "llama_cpp", "sentence_transformers"}
    assert not loaded(FLEA, tmp_path) & MODEL_LIBRARIES  # every vector from the store
