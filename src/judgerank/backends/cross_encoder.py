"""Cross-encoder backend: the relevance of (query, passage) pairs from any sentence-transformers
CrossEncoder directory (a BERT-style sequence classifier and its tokenizer), in process.

The score is what the model's head gives as a probability of relevance: the sigmoid of its one
logit (sentence-transformers' default for one label), or the softmax share of the last label
for a two-label head. Pairs are scored in batches; the judgment store keeps each pair's score,
so a pair is scored once.

Two engines. A folder with model.onnx and tokenizer.json beside its weights (every student
`judgerank distil` writes has them) runs on ONNX Runtime and the tokenizers library, the fast
path of the default install, without torch. Any other CrossEncoder folder runs on transformers
and torch (the `cross` extra), on the CPU; `export_onnx` gives it the fast path.

Its `identity` names the directory and a digest of its config and weight files (names, sizes,
modification times), so a model trained again in place never meets the old model's scores.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit, softmax

from judgerank.backends.base import Backend
from judgerank.backends.int8 import PROVENANCE, int8_graph, runs_int8
from judgerank.backends.models import cache_dir
from judgerank.core.errors import JudgerankError, needs_extra

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
ONNX_FILES = ("model.onnx", "tokenizer.json")
ENGINES = ("auto", "onnx", "torch")


def onnx_ready(folder: Path) -> bool:
    """Whether the folder runs on the fast path: its ONNX graph and tokenizer, and the libraries."""
    return all((folder / f).is_file() for f in ONNX_FILES) and all(
        importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))


def check_directory(path: str | Path, engine: str = "auto") -> Path:
    """The model's folder, or a one-line error saying what is missing."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise JudgerankError(f"cross-encoder {path}: not a folder; give a sentence-transformers CrossEncoder folder "
                             "(config.json, weights, tokenizer)")
    if engine not in ENGINES:
        raise JudgerankError(f"cross-encoder engine {engine!r}: use {', '.join(ENGINES)}")
    if engine != "torch" and onnx_ready(folder):
        return folder
    if engine == "onnx":
        raise JudgerankError(f"cross-encoder {path}: no {' and '.join(ONNX_FILES)} in it (or no onnxruntime): it runs "
                             "on torch")
    if not (folder / "config.json").is_file() or not any((folder / w).is_file() for w in WEIGHT_FILES):
        raise JudgerankError(f"cross-encoder {path}: no config.json and weights ({' or '.join(WEIGHT_FILES)}) in it")
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        raise needs_extra("a cross-encoder", "cross") from None
    return folder


def export_onnx(folder: str | Path) -> Path:
    """Write the folder's model as model.onnx (dynamic batch and length) beside its weights, so it
    runs on the fast path; needs torch. Its path."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if not (folder / "tokenizer.json").is_file():
        tokenizer.save_pretrained(folder)
    sample = tokenizer(["a query", "a query"], ["a passage", "another passage"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    path = folder / "model.onnx"
    tmp = folder / "model.onnx.tmp"
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on operators it rewrites: the graph is checked by tests
        torch.onnx.export(model, tuple(sample[n] for n in names), str(tmp), input_names=names,
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logits": {0: "batch"}})
    os.replace(tmp, path)
    return path


class CrossEncoderBackend(Backend):
    """A CrossEncoder folder on transformers (loaded at its first pair)."""

    def __init__(self, path: str | Path, batch_size: int = 16, max_length: int | None = None,
                 threads: int | None = None, engine: str = "auto") -> None:
        self.folder = check_directory(path, engine)
        self.engine = "onnx" if engine != "torch" and onnx_ready(self.folder) else "torch"
        self.batch_size = batch_size
        self.max_length = max_length or _trained_length(self.folder)
        self.threads = threads
        self._model: tuple[Any, Any] | None = None
        self._lock = threading.Lock()
        digest = hashlib.sha256((self.folder / "config.json").read_bytes())
        for name in sorted(p.name for p in self.folder.iterdir() if p.is_file()):
            stat = (self.folder / name).stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        self.int8 = self.engine == "onnx" and runs_int8(self.folder)  # torch runs the float32 weights
        self._digest = digest.hexdigest()[:16]
        self.identity = f"cross-encoder:{self.folder.resolve()}:{self._digest}" + (":int8" if self.int8 else "")

    def load(self) -> None:
        with self._lock:
            if self._model is None and self.engine == "onnx":
                graph = self.folder / "model.onnx"
                if self.int8:  # made in the user's cache, not in a folder that may be read-only
                    graph = int8_graph(graph, cache_dir() / "onnx" / f"cross-encoder-{self._digest}-int8.onnx")
                self._model = _onnx_runner(self.folder, graph, self.max_length, self.threads)
            elif self._model is None:
                import torch
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                if self.threads:
                    torch.set_num_threads(self.threads)
                tokenizer = AutoTokenizer.from_pretrained(self.folder)
                model = AutoModelForSequenceClassification.from_pretrained(self.folder).eval()
                self._model = (tokenizer, model)

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """P(relevant) of each (query, text) pair, as the model's head gives it."""
        self.load()
        assert self._model is not None
        if self.engine == "onnx":
            return self._onnx_similarities(query, texts)
        import torch

        tokenizer, model = self._model
        out: list[float] = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                chunk = list(texts[start : start + self.batch_size])
                batch = tokenizer([query] * len(chunk), chunk, padding=True, truncation=True,
                                  max_length=self.max_length, return_tensors="pt")
                out += probabilities(model(**batch).logits.double().numpy())
        return out

    def _onnx_similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        assert self._model is not None
        tokenizer, session = self._model
        names = {i.name for i in session.get_inputs()}
        out: list[float] = []
        with self._lock:
            for start in range(0, len(texts), self.batch_size):
                encoded = tokenizer.encode_batch([(query, t) for t in texts[start : start + self.batch_size]])
                feeds = {"input_ids": [e.ids for e in encoded], "attention_mask": [e.attention_mask for e in encoded],
                         "token_type_ids": [e.type_ids for e in encoded]}
                logits = session.run(["logits"], {k: np.array(v, dtype=np.int64) for k, v in feeds.items()
                                                  if k in names})[0]
                out += probabilities(logits.astype(np.float64))
        return out


def probabilities(logits: np.ndarray) -> list[float]:
    """P(relevant) from a head's logits (one row a pair): the sigmoid of one logit, or the softmax
    share of the last of several."""
    p = expit(logits[:, 0]) if logits.shape[-1] == 1 else softmax(logits, axis=-1)[:, -1]
    return [float(x) for x in p]


def _trained_length(folder: Path) -> int:
    """The pair length a student was trained at (its distil.json), else 512."""
    made = folder / PROVENANCE
    if made.is_file():
        try:
            return int(json.loads(made.read_text(encoding="utf-8"))["settings"]["max_length"])
        except (ValueError, KeyError, TypeError):
            pass
    return 512


def _onnx_runner(folder: Path, graph: Path, max_length: int, threads: int | None) -> tuple[Any, Any]:
    """(tokenizer, ONNX Runtime session) of a folder on the fast path, running `graph`."""
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)  # longest first, as transformers cuts a pair
    pad = "[PAD]"
    config = folder / "tokenizer_config.json"
    if config.is_file():
        pad = str(json.loads(config.read_text(encoding="utf-8")).get("pad_token") or pad)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad) or 0, pad_token=pad)
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    return tokenizer, session
