"""Students that run with 8-bit weights: twice the passages a second on a CPU, the ranking nearly kept.

`judgerank distil --int8` marks a student's folder (its distil.json says `"int8": true`); the
bi-encoder and cross-encoder backends then run a copy of its ONNX graph whose matrix weights are
quantised to int8, one scale per output channel (ONNX Runtime's dynamic quantisation: the
activations are quantised on the fly, so no calibration data is needed). On DL19 that doubled a
MiniLM student's passages a second on 2 cores; across the distil bench's students nDCG@10 moved by
-0.025 to +0.005, mean -0.006 (docs/benchmarks/distil.md), so it is a choice, not the default.
The vectors and scores are not the float32 ones, so a backend running int8 names itself apart
(its identity ends in `:int8`) and the store never mixes the two.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

PROVENANCE = "distil.json"  # a student's provenance, written by judgerank distil; its "int8" says how it runs


def runs_int8(folder: Path) -> bool:
    """Whether the folder's distil.json asks for int8 weights (a folder without one runs float32)."""
    made = folder / PROVENANCE
    if not made.is_file():
        return False
    try:
        said = json.loads(made.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(said, dict) and said.get("int8") is True


def mark_int8(folder: Path, on: bool) -> None:
    """Say in the folder's distil.json (atomically) whether the student runs with int8 weights."""
    made = folder / PROVENANCE
    said = json.loads(made.read_text(encoding="utf-8"))
    if bool(said.get("int8")) == on:
        return  # unchanged: the file (and so a cross-encoder's identity, which reads its date) left as it is
    said["int8"] = on
    tmp = made.with_name(made.name + ".tmp")
    tmp.write_text(json.dumps(said, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, made)


def int8_graph(graph: Path, out: Path) -> Path:
    """`out`: the float32 ONNX graph at `graph` with its MatMul weights quantised to int8 per
    channel, written once (atomically: a concurrent process finds either nothing or the whole file)."""
    if out.is_file():
        return out
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.stem}.{os.getpid()}.tmp.onnx")
    # the quantiser advises pre-processing on the root logger; a handler of our own for the while
    # keeps that note from the user and stops logging from installing one on stderr for good
    root, quiet = logging.getLogger(), logging.NullHandler()
    level = root.level
    root.addHandler(quiet)
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(graph), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        os.replace(tmp, out)
    finally:
        root.setLevel(level)
        root.removeHandler(quiet)
        tmp.unlink(missing_ok=True)
    return out
