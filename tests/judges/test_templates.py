"""Prompt templates: the built-in ones in the documented format, a user's prompt and rubric files
checked when loaded (one line naming what is missing), and their identity in the cache key."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from helpers import EXAMPLES

from judgerank.core.errors import JudgerankError
from judgerank.judges.templates import KINDS, load_template, read_prompt_file, read_rubric_file

BUILT_IN = sorted(p.name.removesuffix(".toml") for p in (resources.files("judgerank.judges") / "prompts").iterdir()
                  if p.name.endswith(".toml"))


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_built_in_template_loads_and_says_how_to_ask_in_words(name: str) -> None:
    t = load_template(name)
    assert t.key == f"{name}@{t.version}" and t.version.isdigit()
    if t.kind in KINDS and t.kind != "labels":
        assert len(t.words.means) == len(t.choices), name  # the instruction says what each answer means


def test_the_examples_load() -> None:
    prompt = read_prompt_file(EXAMPLES / "judge-prompt.toml")
    assert (prompt.kind, prompt.choices, prompt.name) == ("verdict", ("A", "B", "C"), "concise-judge")
    plain, referenced = read_rubric_file(EXAMPLES / "rubric-helpfulness.toml")
    assert plain.kind == "rating" and plain.choices == ("1", "2", "3", "4", "5")
    assert "{reference}" in referenced.user and "{reference}" not in plain.user
    assert plain.words.marker == "[RESULT] {}"
    relevance = read_prompt_file(EXAMPLES / "relevance-prompt.toml")
    assert relevance.kind == "binary" and relevance.words.written == ("true", "false")


def test_a_template_key_is_the_hash_of_its_text(tmp_path: Path) -> None:
    text = (EXAMPLES / "judge-prompt.toml").read_text()
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(text)
    second.write_text(text.replace("busy engineer", "busy doctor"))
    a, same, b = read_prompt_file(first), read_prompt_file(first), read_prompt_file(second)
    assert a.key == same.key != b.key and a.key.startswith("concise-judge@")


GOOD = '''name = "mine"
kind = "verdict"
choices = ["A", "B", "C"]
system = ""
user = "{question} {a} {b}"
'''


@pytest.mark.parametrize(("text", "message"), [
    ("kind = 'verdict'\nuser = 'x'", r"no 'name'"),
    ("name = 'x'\nuser = '{question} {a} {b}'", r"no 'kind'"),
    ("name = 'x'\nkind = 'verdict'\nchoices = ['A', 'B', 'C']", r"no 'user'"),
    (GOOD.replace('"verdict"', '"verdikt"'), r"kind 'verdikt' is not one of binary, graded"),
    (GOOD.replace('"listwise"', "").replace('"verdict"', '"listwise"'), r"kind 'listwise' is not one of"),
    (GOOD.replace('["A", "B", "C"]', '["A", "B"]'), r"a verdict template reads 3 choices, and it gives 2"),
    (GOOD.replace("{b}", ""), r"never show \{b\}, which a verdict template fills"),
    (GOOD.replace("{b}", "{b} {passage}"), r"unknown field \{passage\}"),
    (GOOD.replace("{b}", "{b} {"), r"a brace that is not a field"),
    (GOOD + "[words]\nmeans = ['x']\n", r"\[words\] means has 1 entries for 3 choices"),
    (GOOD + "[words]\nmarker = '[[X]]'\n", r"marker must hold one \{\}"),
    (GOOD + "[words]\nform = 'essay'\n", r"form must be choice or ranking"),
    (GOOD + "[words]\nsynonyms = {best = 'Z'}\n", r"synonym 'best' stands for 'Z', which is not a choice"),
    (GOOD + "[words]\ncolour = 'red'\n", r"unknown key 'colour' in \[words\]"),
    (GOOD.replace('kind = "verdict"', 'kind = "rating"').replace('["A", "B", "C"]', '["low", "high"]')
     .replace("{question} {a} {b}", "{question} {answer}"), r"choices are numbers"),
    ("name = [", r"not valid TOML"),
])
def test_a_bad_prompt_file_is_one_line_naming_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(JudgerankError, match=message) as caught:
        read_prompt_file(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_missing_prompt_file(tmp_path: Path) -> None:
    with pytest.raises(JudgerankError, match=r"--prompt .*nope.toml: cannot read it"):
        read_prompt_file(tmp_path / "nope.toml")


@pytest.mark.parametrize(("text", "message"), [
    ("[scores]\n1 = 'bad'\n2 = 'good'\n", r"no 'criteria'"),
    ("criteria = 'x'\n", r"no \[scores\] table"),
    ("criteria = 'x'\n[scores]\n1 = 'only one'\n", r"at least two scores"),
    ("criteria = 'x'\n[scores]\nlow = 'a'\nhigh = 'b'\n", r"every score in \[scores\] must be a number"),
])
def test_a_bad_rubric_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(JudgerankError, match=message):
        read_rubric_file(path)
