"""The two kinds of student a teacher's lessons can train, behind one small interface.

bi-encoder (the default): the encoder embeds the query and each passage apart and the score is
their cosine; it starts from the bundled all-MiniLM-L6-v2, the embedding judgerank already ranks
with, so it begins where the embedding is and learns only how the teacher differs from it. Its
logit for the losses is SCALE * (cosine - 1/2): the offset cancels in the pairwise loss, and SCALE
lets a cosine's small range reach the teacher's probabilities near 0 and 1. Ranks with
`--method bi-encoder --model FOLDER`, on ONNX Runtime like the embedding, and a passage's vector
is stored once for every query.

cross-encoder: query and passage read together by the encoder with a new one-logit head; it
reads the pair, but its head starts from nothing and needs many more lessons than the
bi-encoder. Ranks with `--method cross-encoder --model FOLDER` (model.onnx is written beside it).

Each kind loads from the base or a checkpoint, scores one lesson's passages as logits with
gradients, saves itself as a sentence-transformers folder, and makes that folder ready to rank.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from judgerank.distil.lessons import Lesson

if TYPE_CHECKING:
    import torch

SCALE = 20.0  # a bi-encoder's logit per unit of cosine (sentence-transformers' ranking losses use 20 too)


class Student(Protocol):
    """A student being trained: `model` is the torch module whose parameters learn."""

    name: str
    rate: float  # the learning rate unless one is given
    model: Any

    def scores(self, lesson: Lesson) -> torch.Tensor: ...

    def save(self, folder: Path) -> None: ...

    def ready(self, folder: Path) -> None: ...


class CrossEncoderStudent:
    name = "cross-encoder"
    rate = 5e-5

    def __init__(self, folder: Path, max_length: int) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1)
        self.max_length = max_length

    def scores(self, lesson: Lesson) -> torch.Tensor:
        batch = self.tokenizer([lesson.query] * len(lesson.texts), list(lesson.texts), padding=True, truncation=True,
                               max_length=self.max_length, return_tensors="pt")
        return self.model(**batch).logits[:, 0]

    def save(self, folder: Path) -> None:
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)

    def ready(self, folder: Path) -> None:
        from judgerank.backends.cross_encoder import export_onnx

        export_onnx(folder)  # the fast path: it ranks without torch


class BiEncoderStudent:
    name = "bi-encoder"
    rate = 2e-5  # it starts from a good ranker: small steps keep what the embedding knew

    def __init__(self, folder: Path, max_length: int) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), device="cpu")
        self.model.max_seq_length = max_length  # each text apart: the query, and a passage

    def scores(self, lesson: Lesson) -> torch.Tensor:
        from torch.nn.functional import normalize

        features = self.model.preprocess([lesson.query, *lesson.texts])
        vectors = normalize(self.model(features)["sentence_embedding"], dim=-1)
        return SCALE * (vectors[1:] @ vectors[0] - 0.5)

    def save(self, folder: Path) -> None:
        self.model.save(str(folder))

    def ready(self, folder: Path) -> None:
        from judgerank.backends.embedding import check_folder

        check_folder(folder)  # the ONNX graph is built from its weights when it first ranks


STUDENTS: dict[str, type[CrossEncoderStudent] | type[BiEncoderStudent]] = {
    "bi-encoder": BiEncoderStudent, "cross-encoder": CrossEncoderStudent}
