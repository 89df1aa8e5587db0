"""Distilling stored judgments into a fast scorer (judgerank distil): a teacher's lessons read
through the judgment store (lessons.py), the losses a student learns by (losses.py), and the
resumable CPU training of a cross-encoder student (trainer.py). torch and transformers (the
cross extra) load only when a student is trained."""

from judgerank.distil.lessons import Lesson, Taught, Teaching, teach, teacher_of
from judgerank.distil.trainer import Settings, Trained, Training, bundled_encoder

__all__ = ["Lesson", "Settings", "Taught", "Teaching", "Trained", "Training", "bundled_encoder", "teach", "teacher_of"]
