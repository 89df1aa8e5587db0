"""Verdicts in words: how every judge that reads choices hears a model that gives no
log-probabilities, a reasoning model, or k sampled answers.

`choose` is what the choice-reading judges call. With log-probabilities (verdicts "logprobs", or
"auto" on a model that gives them) it asks for them as before. Otherwise it asks the template's
prompt with an instruction to answer in the template's fixed form (`[[A]]`, `[[A>>B]]`,
`[RESULT] 4`, `[[C, A, B]]`), k times where samples = k, reads each answer with `read_choice`
or `read_ranking`, asks an unreadable one again once with a short repair turn, and counts one
still unreadable as `unparsed`: it is left out, never read as a default.

The answers become the probabilities the judges already read: each choice's vote share with a
prior of half an answer per choice, (votes + 1/2) / (answers + choices/2), so one answer still
gives a probability (a yes alone: 0.75) and k answers move it toward their shares. A judgment
whose every answer was unparsed is None in an Answers that is still complete: the strategies
leave it out.

The rule for reading a choice (docs/templates.md): the reasoning is set aside (a model's
reasoning channel, a <think> block); then the last explicit verdict wins (the template's marker,
[[X]], [RESULT] X, <answer>X</answer>, or a line such as "Verdict: X", "Final answer: X"); else
a reply that is only a choice, or starts with one (a letter must stand alone: "A." but not
"A passage"); else a choice named once as "Assistant B", "Passage A" or "Response 2"; else,
for yes/no, the only one of the yes or no words that the reply uses; else unparsed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from judgerank.backends.base import ChoiceRequest, ChoiceResult, GenerateRequest, Generation, Message
from judgerank.core.errors import JudgerankError, NoLogprobs
from judgerank.core.judging import Asking
from judgerank.core.types import Answers
from judgerank.judges.templates import PromptTemplate, Words
from judgerank.store.cached import CachedModel

PRIOR = 0.5  # answers each choice is credited before any is heard
VERDICT_TOKENS = 24  # room for the verdict itself after any reasoning
WORDS_PER_TOKEN = 0.7

_THINK = re.compile(r"<(think|thinking|reasoning)>(.*?)(</\1>|$)", re.S | re.I)
_EMPHASIS = re.compile(r"(\*\*|__|`|\*)")
_LINE_MARKERS = re.compile(
    r"(?:final\s+verdict|final\s+answer|verdict|answer|decision|rating|score|grade|result|relevance|judg(?:e)?ment|"
    r"ranking|better\s+(?:response|answer|passage|assistant)|winner|my\s+choice|choice)\s*(?:is|:|=|-)\s*(.+)", re.I)
_NAMED = re.compile(r"\b(?:assistant|passage|response|answer|output|option|candidate)(?:\s+|\s*\()([A-Za-z0-9]{1,2})\)?"
                    r"(?![A-Za-z0-9])", re.I)


@dataclass(frozen=True)
class Said:
    """What a judge said for one judgment: the verdict as written (None: unparsed) and its reasoning."""

    about: str
    verdict: str | None
    reasoning: str

    def as_dict(self) -> dict[str, str | None]:
        return {"about": self.about, "verdict": self.verdict, "reasoning": self.reasoning}


# --- reading answers ---------------------------------------------------------------------------


def split_reasoning(text: str, reasoning: str = "") -> tuple[str, str]:
    """(reasoning, answer): a separate reasoning channel and any <think> block, apart from the
    text that answers. An unclosed <think> is all reasoning."""
    parts = [reasoning.strip()] if reasoning.strip() else []

    def keep(match: re.Match[str]) -> str:
        parts.append(match.group(2).strip())
        return " "

    answer = _THINK.sub(keep, text)
    return "\n".join(p for p in parts if p), answer.strip()


def written_for(words: Words, choices: Sequence[str]) -> tuple[str, ...]:
    """How each choice is written in a verdict: the template's own way, or the choices themselves
    (the labels of a window, which vary in number)."""
    return words.written if words.written and len(words.written) == len(choices) else tuple(choices)


def _lookup(words: Words, choices: Sequence[str]) -> dict[str, int]:
    """Every way of writing each choice, lower case, to its index."""
    table = {c.lower(): n for n, c in enumerate(choices)}
    table |= {w.lower(): n for n, w in enumerate(written_for(words, choices))}
    table |= {w: n for w, n in words.synonyms if n < len(choices)}
    return table


def _clean(text: str) -> str:
    return _EMPHASIS.sub("", text).strip()


def _as_choice(text: str, table: dict[str, int], numeric: bool) -> int | None:
    """The choice that a verdict's text names, or None: the whole text (spaces, quotes, brackets
    and a final stop aside), or a number equal to one of the numeric choices."""
    bare = re.sub(r"\s+", "", text.strip().strip("\"'“”‘’()[]{}<>.,;:!").lower())
    spaced = re.sub(r"\s+", " ", text.strip().strip("\"'“”‘’()[]{}<>.,;:!").lower())
    for candidate in (spaced, bare):
        if candidate in table:
            return table[candidate]
    if numeric:
        number = re.fullmatch(r"(-?\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*\d+)?", spaced)
        if number:
            value = float(number.group(1))
            hits = [n for key, n in table.items() if _float(key) == value]
            return hits[0] if hits else None
    return None


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _explicit(answer: str, words: Words) -> list[str]:
    """The texts of every explicit verdict in the answer, in order of appearance."""
    found: list[tuple[int, str]] = []
    before, after = (re.escape(p.strip()) for p in words.marker.split("{}"))
    # a marker with nothing after the verdict ("[RESULT] {}") holds it up to the line's end or the next marker
    patterns = [before + r"\s*(.+?)\s*" + after] if after else [before + r"\s*(.+?)\s*(?=" + before + r"|\n|$)"]
    patterns += [r"\[\[\s*(.+?)\s*\]\]", r"\[RESULT\]\s*(.+?)\s*(?=\[RESULT\]|\n|$)", r"<answer>\s*(.+?)\s*</answer>"]
    for pattern in patterns:
        found += [(m.start(), m.group(1)) for m in re.finditer(pattern, answer, re.I | re.S)]
    for line_start, line in _lines(answer):
        m = _LINE_MARKERS.search(line)
        if m:
            found.append((line_start + m.start(), m.group(1)))
    return [text for _, text in sorted(found)]


def _lines(text: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for line in text.split("\n"):
        out.append((start, line))
        start += len(line) + 1
    return out


def read_choice(text: str, choices: Sequence[str], words: Words, numeric: bool = False) -> int | None:
    """The index of the choice a reply gives as its verdict, by the rule in the module's
    docstring; None when it gives none that can be read."""
    table = _lookup(words, choices)
    _, answer = split_reasoning(text)
    answer = _clean(answer)
    if not answer:
        return None
    for verdict in reversed(_explicit(answer, words)):
        hit = _as_choice(verdict, table, numeric)
        if hit is None:  # "Verdict: [[B]] because ..." or "Answer: B, since ...": the first token
            first = re.match(r"\s*\[*\s*(-?\d+(?:\.\d+)?(?![\w.])|[^\s\],.;:!]+(?:\s*(?:>>|>|=|<<|<)\s*[^\s\],.;:!]+)?)",
                             verdict)
            hit = _as_choice(first.group(1), table, numeric) if first else None
        if hit is not None:
            return hit
    whole = _as_choice(answer, table, numeric)
    if whole is not None:
        return whole
    lead = re.match(r"\s*[\[(\"']*([A-Za-z0-9]+(?:\s*(?:>>|>|=|<<|<)\s*[A-Za-z0-9]+)?)([\])\"']*)(.?)", answer)
    if lead:
        token, closing, after = lead.group(1), lead.group(2), lead.group(3)
        hit = _as_choice(token, table, numeric)
        if hit is None and numeric:  # "3 = perfectly": the grade before its gloss
            token, closing, after = re.split(r"\s*(?:>>|>|=|<<|<)", token)[0], "", " "
            hit = _as_choice(token, table, numeric)
        stands_alone = closing or after in ("", ".", ",", ":", ";", "\n", ")", "!", "-") or len(token) > 1 or numeric
        if hit is not None and stands_alone and not (len(token) == 1 and token.isalpha() and after == " "):
            return hit
    written = written_for(words, choices)
    if not numeric and all(re.fullmatch(r"[A-Za-z]{1,2}", w) for w in written):  # letters that stand for what is shown
        named = {table[m.group(1).lower()] for m in _NAMED.finditer(answer) if m.group(1).lower() in table}
        if len(named) == 1:
            return named.pop()
    if len(choices) == 2 and not numeric:  # yes/no said in a sentence: the only one of the words used
        said = re.findall(r"[a-z]+", re.sub(r"\bnot relevant\b", "irrelevant", answer.lower()))
        meant = {table[w] for w in said if w in table and len(w) > 1}
        if len(meant) == 1:
            return meant.pop()
    return None


def read_ranking(text: str, labels: Sequence[str], words: Words) -> list[int] | None:
    """Window positions best first from a reply that lists labels ("[[C, A, B]]", "C > A > B"):
    read from the last explicit verdict, else from the last line that names two labels, else
    the whole reply; repeated and unknown labels dropped, missing ones after the named ones in
    input order; None when it names no label."""
    index = {label: n for n, label in enumerate(labels)}
    _, answer = split_reasoning(text)
    answer = _clean(answer)
    token = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(sorted(map(re.escape, index), key=len, reverse=True))
                       + r")(?![A-Za-z0-9])")

    def named(region: str) -> list[int]:
        return [index[m.group(1)] for m in token.finditer(region)]

    def only_labels(line: str) -> bool:  # a line of labels and separators, at most a short lead-in
        rest = re.sub(r"[\s,>\[\]().:;\-]", "", token.sub("", line))
        return len(named(line)) >= 2 and len(rest) <= 12

    regions = [r for r in reversed(_explicit(answer, words)) if named(r)]
    regions += [line for _, line in reversed(_lines(answer)) if only_labels(line)]
    for region in regions:
        order = list(dict.fromkeys(named(region)))
        return order + [n for n in range(len(labels)) if n not in order]
    return None


# --- asking ------------------------------------------------------------------------------------


def instruction(words: Words, written: Sequence[str], asking: Asking) -> str:
    """What the judge is told about the form of its verdict, appended to the prompt."""
    if words.form == "ranking":
        form = words.marker.format(", ".join(written[:3]) if len(written) >= 3 else ", ".join(written))
        what = (f"your ranking in the form {form}: the labels of all the passages ({', '.join(written)}), "
                "most relevant first, separated by commas")
    else:
        form = words.marker.format("X")
        options = [f"{w} ({m})" if m else w for w, m in zip(written, words.means or [""] * len(written))]
        listed = ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else options[0]
        what = f"your verdict in the form {form}, where X is {listed}"
    if asking.reasoning:
        budget = int(asking.think_tokens * WORDS_PER_TOKEN)
        return (f"Begin with your reasoning, step by step, in at most {budget} words. After it, give {what}, "
                "strictly in that form, on a last line of its own.")
    return f"Reply with {what}, and nothing else."


REPAIR = "Your reply did not end with a verdict in the form asked for. {instruction}"


def words_messages(template: PromptTemplate, messages: Sequence[Message], written: Sequence[str],
                   asking: Asking) -> tuple[Message, ...]:
    """The prompt in words: the template's own messages, its words system message where it has
    one, a last line that only cues the answer ("Rating:") left out, and the instruction last."""
    out: list[Message] = []
    for role, content in messages:
        if role == "system" and template.words.system is not None:
            content = template.words.system
        out.append((role, content))
    role, content = out[-1]
    content = re.sub(r"\n[A-Za-z][A-Za-z ]{0,30}:\s*$", "", content)
    out[-1] = (role, f"{content}\n\n{instruction(template.words, written, asking)}")
    return tuple(out)


def choose(model: CachedModel, asked: Sequence[tuple[PromptTemplate, ChoiceRequest]],
           about: Sequence[str] | None = None) -> Answers[ChoiceResult]:
    """The answer distribution of each request, as log-probabilities: read from the model's
    log-probabilities, or from verdicts in words (the module's docstring). `about` names each
    judgment for its explanation (--explain)."""
    asking = model.asking
    if not asking.in_words and model.gives_logprobs is not False:
        try:
            return model.choice_logprobs([r for _, r in asked])
        except NoLogprobs as exc:
            if asking.verdicts == "logprobs":
                raise JudgerankError(f"{exc}: ask for verdicts in words (--verdicts text or auto)") from None
            model.no_logprobs(str(exc))
    return _in_words(model, asked, about or [""] * len(asked))


def _in_words(model: CachedModel, asked: Sequence[tuple[PromptTemplate, ChoiceRequest]],
              about: Sequence[str]) -> Answers[ChoiceResult]:
    k = model.asking.samples
    requests = [r for template, request in asked for r in _words_requests(template, request, model.asking)]
    answers = model.generate(requests)
    generations = list(answers.values)
    readings = [_read(g, template, request) if g is not None else None
                for (template, request), g in zip(_each_sample(asked, k), generations)]
    complete = _repair(model, asked, requests, generations, readings) and answers.complete
    results: list[ChoiceResult | None] = []
    for j, (template, request) in enumerate(asked):
        samples = range(j * k, (j + 1) * k)
        if any(generations[n] is None for n in samples):  # the Budget stopped it: not in, not unparsed
            results.append(None)
            complete = False
            continue
        read = [r for r in (readings[n] for n in samples) if r is not None]
        results.append(_distribution(read, len(request.choices), template.words.form == "ranking") if read else None)
        if model.explained is not None:
            first = generations[samples[0]]
            assert first is not None
            verdict = _verdict_text(readings[samples[0]], template, request)
            model.explained.append(Said(about[j], verdict, _reasoning(first)))
    return Answers(results, complete)


def _words_requests(template: PromptTemplate, request: ChoiceRequest, asking: Asking) -> list[GenerateRequest]:
    """The k samples of one judgment asked in words (greedy when one: seed 0, temperature 0)."""
    written = _written(template, request)
    ranked = template.words.form == "ranking"
    room = (3 * len(request.choices) + 16) if ranked else VERDICT_TOKENS
    messages = words_messages(template, request.messages, written, asking)
    temperature = asking.sampling_temperature
    return [GenerateRequest(messages, room + (asking.think_tokens if asking.reasoning else 0), f"{template.key}/words",
                            temperature=temperature, seed=seed if temperature > 0 else 0, answers=request.choices,
                            written=tuple(template.words.marker.format(w) for w in written), ranked=ranked)
            for seed in range(asking.samples)]


def _repair(model: CachedModel, asked: Sequence[tuple[PromptTemplate, ChoiceRequest]],
            requests: Sequence[GenerateRequest], generations: list[Generation | None],
            readings: list[int | list[int] | None]) -> bool:
    """Ask each unreadable answer again once, greedily, after the answer it gave; count the
    repairs and the answers still unreadable. Updates generations and readings in place; False
    when the Budget stopped a repair (that answer is then not in)."""
    k = model.asking.samples
    todo = [n for n, (g, r) in enumerate(zip(generations, readings)) if g is not None and r is None]
    if not todo:
        return True
    model.ledger.repaired(len(todo))
    again = []
    for n in todo:
        template, request = asked[n // k]
        said = generations[n]
        assert said is not None
        tell = instruction(template.words, _written(template, request), Asking(verdicts="text"))
        room = requests[n].max_tokens - (model.asking.think_tokens if model.asking.reasoning else 0)
        again.append(replace(requests[n], messages=(*requests[n].messages, ("assistant", said.text),
                                                    ("user", REPAIR.format(instruction=tell))),
                             max_tokens=room, template=f"{template.key}/repair", temperature=0.0, seed=0))
    fixed = model.generate(again)
    for n, g in zip(todo, fixed.values):
        first = generations[n]
        assert first is not None
        if g is None:
            generations[n] = None
            continue
        template, request = asked[n // k]
        readings[n] = _read(g, template, request)
        if readings[n] is None:
            model.ledger.unreadable()
        else:
            generations[n] = Generation(first.text + "\n" + g.text, 0, 0, reasoning=first.reasoning)
    return fixed.complete


def _each_sample(asked: Sequence[tuple[PromptTemplate, ChoiceRequest]], k: int) -> list[tuple[PromptTemplate, ChoiceRequest]]:
    return [pair for pair in asked for _ in range(k)]


def _written(template: PromptTemplate, request: ChoiceRequest) -> tuple[str, ...]:
    return written_for(template.words, request.choices)


def _read(said: Generation, template: PromptTemplate, request: ChoiceRequest) -> int | list[int] | None:
    text = said.text
    if template.words.form == "ranking":
        return read_ranking(text, request.choices, template.words)
    return read_choice(text, request.choices, template.words, numeric=template.kind in ("graded", "rating"))


def _distribution(read: Sequence[int | list[int]], n: int, ranked: bool) -> ChoiceResult:
    """Log-probabilities from the answers read: vote shares with the prior (a choice); for a
    ranking, each label's mean worth (1 first, falling by 1/n a place) with the same prior."""
    weights = np.full(n, PRIOR)
    for r in read:
        if ranked:
            assert isinstance(r, list)
            for place, label in enumerate(r):
                weights[label] += 1.0 - place / n
        else:
            assert isinstance(r, int)
            weights[r] += 1.0
    return ChoiceResult(tuple(float(x) for x in np.log(weights / weights.sum())), 0, 0)


def _verdict_text(reading: int | list[int] | None, template: PromptTemplate, request: ChoiceRequest) -> str | None:
    if reading is None:
        return None
    written = _written(template, request)
    if isinstance(reading, list):
        return ", ".join(written[n] for n in reading)
    return written[reading]


def _reasoning(said: Generation) -> str:
    reasoning, answer = split_reasoning(said.text, said.reasoning)
    return reasoning or answer
