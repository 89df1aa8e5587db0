"""Prompt templates are data: TOML files in judges/prompts, each with a name and a version.

The version is part of every cache key, so editing a template must bump it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from judgerank.backends.base import ChoiceRequest
from judgerank.core.errors import JudgerankError


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: int
    kind: str
    choices: tuple[str, ...]
    system: str
    user: str

    @property
    def levels(self) -> np.ndarray:
        """The choices as numbers (graded and rubric templates: the grade each answer stands for)."""
        return np.array([float(c) for c in self.choices])

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def messages(self, **fields: str) -> tuple[tuple[str, str], ...]:
        """An empty `system` leaves the model's own default system prompt in place."""
        user = ("user", self.user.format(**fields))
        return (("system", self.system), user) if self.system else (user,)

    def request(self, **fields: str) -> ChoiceRequest:
        return ChoiceRequest(self.messages(**fields), self.choices, self.key)


@cache
def load_template(name: str) -> PromptTemplate:
    path = resources.files("judgerank.judges") / "prompts" / f"{name}.toml"
    if not path.is_file():
        raise JudgerankError(f"unknown prompt template {name!r}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return PromptTemplate(
        name=data["name"],
        version=int(data["version"]),
        kind=data["kind"],
        choices=tuple(data["choices"]),
        system=data["system"],
        user=data["user"],
    )
