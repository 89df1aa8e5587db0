"""Named models shipped as split packages: assembled once into the cache, checked, and safe to
resolve from several processes at the same moment (two benchmark runs starting together)."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import pytest

from judgerank.backends import models
from judgerank.backends.models import SplitModel
from judgerank.core.errors import JudgerankError

PARTS = 6
PART_BYTES = 3 << 20  # big enough that concurrent assemblies overlap


def _split_packages(root: Path, prefix: str) -> tuple[SplitModel, bytes]:
    """Real packages on disk, each holding one data part, as the model extras install them."""
    whole = b"GGUF" + bytes(range(256)) * (PARTS * PART_BYTES // 256)
    size = len(whole) // PARTS + 1
    for n in range(1, PARTS + 1):
        pkg = root / f"{prefix}{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(whole[(n - 1) * size : n * size])
    return SplitModel(prefix + "{n}", PARTS, hashlib.sha256(whole).hexdigest(), "test"), whole


def _resolve(root: str, home: str, split: SplitModel, start: object) -> str:
    import os
    import sys

    sys.path.insert(0, root)
    os.environ["JUDGERANK_HOME"] = home
    models.SPLIT_MODELS["split-test"] = split
    start.wait()  # type: ignore[attr-defined]
    try:
        return str(models.resolve_gguf("split-test"))
    except Exception as exc:  # reported to the parent, which asserts there is none
        return f"{type(exc).__name__}: {exc}"


def test_concurrent_processes_assemble_one_model(tmp_path: Path) -> None:
    split, whole = _split_packages(tmp_path / "pkgs", "jr_split_concurrent_part")
    ctx = multiprocessing.get_context("spawn")
    workers = 4
    with ctx.Manager() as manager:
        start = manager.Barrier(workers)
        with ctx.Pool(workers) as pool:
            args = [(str(tmp_path / "pkgs"), str(tmp_path / "home"), split, start)] * workers
            results = pool.starmap(_resolve, args)
    target = tmp_path / "home" / "models" / "split-test.gguf"
    assert results == [str(target)] * workers
    assert target.read_bytes() == whole
    assert [p.name for p in target.parent.iterdir()] == ["split-test.gguf"]  # no partial file left behind


def test_mismatched_parts_are_refused_and_leave_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    split, _ = _split_packages(tmp_path / "pkgs", "jr_split_bad_part")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    monkeypatch.setitem(models.SPLIT_MODELS, "split-bad", SplitModel(split.package_fmt, PARTS, "0" * 64, "test"))
    with pytest.raises(JudgerankError, match="sha256"):
        models.resolve_gguf("split-bad")
    assert list((tmp_path / "home" / "models").iterdir()) == []
