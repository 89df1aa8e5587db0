"""Prompt templates are data: TOML files, the built-in ones in judges/prompts, a user's own given
with --prompt (or made from a --rubric file).

A template names the kind of judgment it makes (which judges use it), the answers it reads
(`choices`, in the order the kind reads them: yes before no, A before B before a tie, ...), the
messages, and how its verdict is asked for in words (the [words] table: judgerank.judges.words).
docs/templates.md describes the format.

Every cache key holds the prompt's whole text, so an edited prompt never meets the judgments of
the old one. A built-in template is named name@version; a user's file name@<hash of its text>.
"""

from __future__ import annotations

import hashlib
import string
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from judgerank.backends.base import ChoiceRequest, Message
from judgerank.core.errors import JudgerankError

# The fields each kind of template fills, and the choices it reads (None: any number).
KINDS: dict[str, tuple[frozenset[str], int | None]] = {
    "binary": (frozenset({"query", "passage"}), 2),  # relevance: yes, then no
    "graded": (frozenset({"query", "passage"}), None),  # relevance grades, as numbers
    "pairwise": (frozenset({"query", "a", "b"}), 2),  # which passage is better: first shown, second shown
    "verdict": (frozenset({"question", "a", "b"}), 3),  # which response is better: first, second, tie
    "verdict5": (frozenset({"question", "a", "b"}), 5),  # first >> second ... second >> first
    "rating": (frozenset({"question", "answer"}), None),  # an absolute grade of one response, as numbers
    "labels": (frozenset({"query", "passages"}), None),  # the best (setwise) or the order (FIRST) of labelled passages
}
OPTIONAL_FIELDS = frozenset({"reference"})  # verdict and rating templates: a reference answer, where a prompt has one
NUMERIC_KINDS = ("graded", "rating")


@dataclass(frozen=True)
class Words:
    """How a template asks for its verdict in words. form: "choice" (one of the answers) or
    "ranking" (labels, best first). written: how each choice is written in a verdict (default:
    the choice itself). means: what each choice means, told to the judge. marker: the fixed form
    of a verdict, "{}" standing for it. synonyms: other words a judge uses for a choice
    (lower case) and the choice's index. system: the system message when asking in words (None:
    the template's own)."""

    form: str = "choice"
    written: tuple[str, ...] = ()
    means: tuple[str, ...] = ()
    marker: str = "[[{}]]"
    synonyms: tuple[tuple[str, int], ...] = ()
    system: str | None = None


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    kind: str
    choices: tuple[str, ...]
    system: str
    user: str
    words: Words = field(default_factory=Words)

    @property
    def levels(self) -> np.ndarray:
        """The choices as numbers (graded and rating templates: the grade each answer stands for)."""
        return np.array([float(c) for c in self.choices])

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def messages(self, **fields: str) -> tuple[Message, ...]:
        """An empty `system` leaves the model's own default system prompt in place."""
        user = ("user", self.user.format(**fields))
        return (("system", self.system), user) if self.system else (user,)

    def request(self, **fields: str) -> ChoiceRequest:
        return ChoiceRequest(self.messages(**fields), self.choices, self.key)


@cache
def load_template(name: str) -> PromptTemplate:
    """A built-in template by name."""
    path = resources.files("judgerank.judges") / "prompts" / f"{name}.toml"
    if not path.is_file():
        raise JudgerankError(f"unknown prompt template {name!r}")
    text = path.read_text(encoding="utf-8")
    return _template(tomllib.loads(text), str(int(tomllib.loads(text)["version"])), f"template {name}")


def template_of(name_or_template: str | PromptTemplate) -> PromptTemplate:
    return name_or_template if isinstance(name_or_template, PromptTemplate) else load_template(name_or_template)


def read_prompt_file(path: str | Path) -> PromptTemplate:
    """A user's template (--prompt FILE), checked whole: a one-line error names the file and
    what is missing or wrong."""
    text, data = _toml(path, "--prompt")
    where = f"--prompt {path}"
    for key in ("name", "kind", "user"):
        if key not in data:
            raise JudgerankError(f"{where}: no {key!r}: a template names itself, its kind and its user message "
                                 "(docs/templates.md)")
    if data["kind"] not in KINDS:
        raise JudgerankError(f"{where}: kind {data['kind']!r} is not one of {', '.join(KINDS)}")
    return _template(data, _digest(text), where)


def read_rubric_file(path: str | Path) -> tuple[PromptTemplate, PromptTemplate]:
    """A rating template pair (without and with a reference answer) from a rubric file
    (--rubric FILE): criteria and a score scale with a description per score, as Prometheus asks."""
    text, data = _toml(path, "--rubric")
    where = f"--rubric {path}"
    criteria, scores = data.get("criteria"), data.get("scores")
    if not isinstance(criteria, str) or not criteria.strip():
        raise JudgerankError(f"{where}: no 'criteria': say what the responses are judged on (docs/templates.md)")
    if not isinstance(scores, dict) or len(scores) < 2:
        raise JudgerankError(f"{where}: no [scores] table of at least two scores, each with its description")
    try:
        scale = sorted(((float(k), k, str(v)) for k, v in scores.items()), key=lambda s: s[0])
    except ValueError:
        raise JudgerankError(f"{where}: every score in [scores] must be a number, as in 1 = \"...\"") from None
    choices = tuple(k for _, k, _ in scale)
    rubric = "\n".join(f"Score {k}: {v}" for _, k, v in scale)
    name = str(data.get("name", Path(path).stem))
    system = ("You are a fair judge. You assess the quality of a response strictly by the score rubric given, "
              "not by general standards.")
    tail = f"""[Score Rubric]
{criteria.strip()}
{rubric}

Which score does the response deserve? Reply with the score only: {", ".join(choices)}."""
    plain = f"""[Instruction]
{{question}}

[Response to Evaluate]
{{answer}}

{tail}"""
    referenced = f"""[Instruction]
{{question}}

[Response to Evaluate]
{{answer}}

[Reference Answer (would score {choices[-1]})]
{{reference}}

{tail}"""
    words = {"marker": "[RESULT] {}", "means": [v for _, _, v in scale],
             "system": system + " Write feedback that assesses the response by the rubric, then the score."}
    version = _digest(text)
    made = [_template({"name": name + suffix, "kind": "rating", "choices": list(choices), "system": system,
                       "user": user, "words": words}, version, where)
            for suffix, user in (("", plain), ("-ref", referenced))]
    return made[0], made[1]


def _toml(path: str | Path, flag: str) -> tuple[str, dict[str, Any]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise JudgerankError(f"{flag} {path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise JudgerankError(f"{flag} {path}: not UTF-8 text") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise JudgerankError(f"{flag} {path}: not valid TOML ({exc})") from None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _template(data: dict[str, Any], version: str, where: str) -> PromptTemplate:
    """A template from its TOML table, checked: its kind, its choices, the fields it fills."""
    kind = data.get("kind")
    if kind not in KINDS and kind not in ("listwise", "attention", "queries"):
        raise JudgerankError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    choices = tuple(str(c) for c in data.get("choices", ()))
    user, system = data.get("user"), data.get("system", "")
    if not isinstance(user, str) or not isinstance(system, str):
        raise JudgerankError(f"{where}: 'user' and 'system' must be strings")
    if kind in KINDS:
        needed, count = KINDS[kind]
        if kind != "labels" and (not choices or (count is not None and len(choices) != count)):
            raise JudgerankError(f"{where}: a {kind} template reads {count or 'two or more'} choices, and it gives "
                                 f"{len(choices)}: set choices = [...]")
        if kind in NUMERIC_KINDS and not all(_is_number(c) for c in choices):
            raise JudgerankError(f"{where}: a {kind} template's choices are numbers (the grade each stands for)")
        used = _fields(user, where) | _fields(system, where)
        if needed - used:
            raise JudgerankError(f"{where}: the messages never show {{{sorted(needed - used)[0]}}}, which a {kind} "
                                 f"template fills: use {', '.join('{' + f + '}' for f in sorted(needed))}")
        if used - needed - OPTIONAL_FIELDS:
            raise JudgerankError(f"{where}: unknown field {{{sorted(used - needed - OPTIONAL_FIELDS)[0]}}}: a {kind} "
                                 f"template fills {', '.join('{' + f + '}' for f in sorted(needed | OPTIONAL_FIELDS))}")
    return PromptTemplate(str(data["name"]), version, str(kind), choices, system, user,
                          _words(data.get("words", {}), kind, choices, where))


def _fields(text: str, where: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise JudgerankError(f"{where}: a brace that is not a field ({exc}); write {{{{ and }}}} for braces") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _words(table: Any, kind: str, choices: tuple[str, ...], where: str) -> Words:
    if not isinstance(table, dict):
        raise JudgerankError(f"{where}: [words] must be a table")
    unknown = set(table) - {"form", "written", "means", "marker", "synonyms", "system"}
    if unknown:
        raise JudgerankError(f"{where}: unknown key {sorted(unknown)[0]!r} in [words]: use form, written, means, "
                             "marker, synonyms, system")
    form = table.get("form", "ranking" if kind == "labels" and not choices else "choice")
    if form not in ("choice", "ranking"):
        raise JudgerankError(f"{where}: [words] form must be choice or ranking, not {form!r}")
    written = tuple(str(w) for w in table.get("written", DEFAULT_WRITTEN.get(kind, choices)))
    means = tuple(str(m) for m in table.get("means", ()))
    for name, values in (("written", written), ("means", means)):
        if values and kind != "labels" and len(values) != len(choices):
            raise JudgerankError(f"{where}: [words] {name} has {len(values)} entries for {len(choices)} choices")
    marker = str(table.get("marker", "[[{}]]"))
    if marker.count("{}") != 1:
        raise JudgerankError(f"{where}: [words] marker must hold one {{}} where the verdict goes, as in \"[[{{}}]]\"")
    synonyms = dict(DEFAULT_SYNONYMS.get(kind, {}))
    index = {w.lower(): n for n, w in enumerate(written)} | {c.lower(): n for n, c in enumerate(choices)}
    for word, meant in dict(table.get("synonyms", {})).items():
        if str(meant).lower() not in index:
            raise JudgerankError(f"{where}: [words] synonym {word!r} stands for {meant!r}, which is not a choice")
        synonyms[str(word).lower()] = index[str(meant).lower()]
    pairs = tuple(sorted(synonyms.items()))
    system = table.get("system")
    return Words(form, written, means, marker, pairs, None if system is None else str(system))


# How verdicts are written in words where a kind has a convention of its own (arena-hard's five
# levels), and the words judges use for them besides.
DEFAULT_WRITTEN: dict[str, tuple[str, ...]] = {
    "binary": ("Yes", "No"),
    "verdict": ("A", "B", "C"),
    "verdict5": ("A>>B", "A>B", "A=B", "B>A", "B>>A"),
}
DEFAULT_SYNONYMS: dict[str, dict[str, int]] = {  # word -> the index of the choice it stands for
    "binary": {"yes": 0, "true": 0, "relevant": 0, "no": 1, "false": 1, "irrelevant": 1, "not relevant": 1},
    "pairwise": {"passage a": 0, "passage b": 1},
    "verdict": {"tie": 2, "a=b": 2, "b=a": 2, "assistant a": 0, "assistant b": 1},
    "verdict5": {"a<<b": 4, "a<b": 3, "b<a": 1, "b<<a": 0, "b=a": 2, "tie": 2, "a>>>b": 0, "b>>>a": 4},
}
