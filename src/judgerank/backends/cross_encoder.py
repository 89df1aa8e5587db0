"""Cross-encoder backend: the relevance of (query, passage) pairs from any sentence-transformers
CrossEncoder directory (a BERT-style sequence classifier and its tokenizer), in process.

The score is what the model's head gives as a probability of relevance: the sigmoid of its one
logit (sentence-transformers' default for one label), or the softmax share of the last label
for a two-label head. Pairs are scored in batches; the judgment store keeps each pair's score,
so a pair is scored once. Runs on transformers and torch (the `cross` extra), on the CPU.

Its `identity` names the directory and a digest of its config and weight files (names, sizes,
modification times), so a model trained again in place never meets the old model's scores.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judgerank.backends.base import Backend
from judgerank.core.errors import JudgerankError, needs_extra

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def check_directory(path: str | Path) -> Path:
    """The model's folder, or a one-line error saying what is missing."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise JudgerankError(f"cross-encoder {path}: not a folder; give a sentence-transformers CrossEncoder folder "
                             "(config.json, weights, tokenizer)")
    if not (folder / "config.json").is_file() or not any((folder / w).is_file() for w in WEIGHT_FILES):
        raise JudgerankError(f"cross-encoder {path}: no config.json and weights ({' or '.join(WEIGHT_FILES)}) in it")
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        raise needs_extra("a cross-encoder", "cross") from None
    return folder


class CrossEncoderBackend(Backend):
    """A CrossEncoder folder on transformers (loaded at its first pair)."""

    def __init__(self, path: str | Path, batch_size: int = 16, max_length: int = 512, threads: int | None = None) -> None:
        self.folder = check_directory(path)
        self.batch_size = batch_size
        self.max_length = max_length
        self.threads = threads
        self._model: tuple[Any, Any] | None = None
        self._lock = threading.Lock()
        digest = hashlib.sha256((self.folder / "config.json").read_bytes())
        for name in sorted(p.name for p in self.folder.iterdir() if p.is_file()):
            stat = (self.folder / name).stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        self.identity = f"cross-encoder:{self.folder.resolve()}:{digest.hexdigest()[:16]}"

    def load(self) -> None:
        with self._lock:
            if self._model is None:
                import torch
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                if self.threads:
                    torch.set_num_threads(self.threads)
                tokenizer = AutoTokenizer.from_pretrained(self.folder)
                model = AutoModelForSequenceClassification.from_pretrained(self.folder).eval()
                self._model = (tokenizer, model)

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """P(relevant) of each (query, text) pair, as the model's head gives it."""
        import torch

        self.load()
        assert self._model is not None
        tokenizer, model = self._model
        out: list[float] = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                chunk = list(texts[start : start + self.batch_size])
                batch = tokenizer([query] * len(chunk), chunk, padding=True, truncation=True,
                                  max_length=self.max_length, return_tensors="pt")
                logits = model(**batch).logits.float()
                if logits.shape[-1] == 1:
                    probability = torch.sigmoid(logits[:, 0])
                else:
                    probability = torch.softmax(logits, dim=-1)[:, -1]
                out += [float(p) for p in probability]
        return out
