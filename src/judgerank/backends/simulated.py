"""A seeded stand-in for an LLM judge, driven by known relevance grades.

It finds the known item texts inside each prompt and answers as a judge with configurable noise,
position bias (favouring the first item shown) and intransitivity would: for tests, and for
studying strategies without LLM cost. The same request always gets the same answer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
from scipy.special import log_softmax

from judgerank.backends.base import (
    AttentionRequest,
    AttentionResult,
    Backend,
    ChoiceRequest,
    ChoiceResult,
    GenerateRequest,
    Generation,
)
from judgerank.core.errors import NoLogprobs
from judgerank.core.flops import ModelShape


class SimulatedBackend(Backend):
    """Choice i of a multi-item prompt stands for the i-th item shown, except that with two items
    shown and five digit choices they are a five-point scale (first much better ... second much
    better); with one item shown, the choices are graded labels ('0'..'3') or, for two
    non-numeric choices, (yes, no)."""

    def __init__(
        self,
        grades: Mapping[str, float],
        *,
        noise: float = 0.0,
        position_bias: float = 0.0,
        intransitivity: float = 0.0,
        seed: int = 0,
        key_chars: int = 60,
        garble: bool = False,
        delay: float = 0.0,
        count_tokens: Callable[[Sequence[tuple[str, str]]], int] | None = None,
        shape: ModelShape | None = None,
        logprobs: bool = True,
        unreadable: float = 0.0,
    ) -> None:
        # keys without surrounding whitespace: prompts show texts stripped
        self.grades = {text.strip()[:key_chars]: float(g) for text, g in grades.items()}
        self.noise = noise
        self.position_bias = position_bias
        self.intransitivity = intransitivity
        self.seed = seed
        self.garble = garble
        self.delay = delay  # seconds per call: stands in for a slow in-process model
        # prompt tokens: whitespace words unless a model's tokenizer is given (judgerank plan);
        # with a shape, each call's FLOPs are estimated as for that model
        self.count_tokens = count_tokens or (lambda messages: sum(len(c.split()) for _, c in messages))
        self.shape = shape
        # logprobs False: an endpoint that gives none, which (like an HTTP one) says so at the first request
        self._logprobs = logprobs
        self.unreadable = unreadable  # verdicts in words: the share of judgments answered with none, even when asked again
        self.gives_logprobs = True if logprobs else None
        self.calls = 0
        self.last_tokens = 0  # tokens of the latest call (prompt + completion), for budget tests
        digest = hashlib.sha256(repr(sorted(self.grades.items())).encode()).hexdigest()[:12]
        self.identity = f"simulated:{digest}:{noise}:{position_bias}:{intransitivity}:{seed}"

    def _rng(self, *parts: object) -> np.random.Generator:
        h = hashlib.sha256(repr((self.seed, *parts)).encode()).digest()
        return np.random.default_rng(int.from_bytes(h[:8], "little"))

    def _shown(self, request: ChoiceRequest) -> list[str]:
        prompt = "\n".join(content for _, content in request.messages)
        found = [(prompt.find(key), key) for key in self.grades if key in prompt]
        return [key for _, key in sorted(found)]

    def _logits(self, request: ChoiceRequest) -> np.ndarray:
        shown = self._shown(request)
        n = len(request.choices)
        rng = self._rng(request.messages, request.choices)
        if len(shown) == 2 and n == 5 and all(c.strip().isdigit() for c in request.choices):
            # a five-point scale from "first much better" (choice 0) to "second much better"
            gap = self.grades[shown[0]] + self.position_bias - self.grades[shown[1]] + self.noise * rng.standard_normal()
            return -((np.array([2.0, 1.0, 0.0, -1.0, -2.0]) - gap) ** 2)
        if len(shown) >= 2:
            strength = np.array([self.grades[k] for k in shown[:n]] + [-1e3] * (n - len(shown[:n])))
            strength[0] += self.position_bias
            for i in range(min(n, len(shown))):
                for j in range(i + 1, min(n, len(shown))):
                    # a fixed, pair-specific push, independent of the order shown: cycles
                    pair = tuple(sorted((shown[i], shown[j])))
                    push = self.intransitivity * self._rng("cycle", pair).standard_normal()
                    strength[i if shown[i] == pair[0] else j] += push
            return strength + self.noise * rng.standard_normal(n)
        grade = self.grades[shown[0]] if shown else 0.0
        value = grade + self.noise * rng.standard_normal()
        if all(c.strip().isdigit() for c in request.choices):
            levels = np.array([float(c) for c in request.choices])
            return -((levels - value) ** 2)
        logits = np.zeros(n)
        logits[0] = value - 1.5  # yes-vs-no log-odds: positive from grade 2 up
        return logits

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """An embedding's stand-in: each text's grade plus seeded noise (0 for unknown texts)."""
        keys = [next((k for k in self.grades if k in t), None) for t in texts]
        return [(self.grades[k] if k is not None else 0.0) + self.noise * self._rng("similarity", query, t).standard_normal()
                for k, t in zip(keys, texts)]

    def _verdict(self, request: GenerateRequest) -> str:
        """The answer a judge in words would write: the choice drawn from the choices'
        distribution at the request's temperature (greedy at 0; `seed` picks the draw), in the
        written form asked. With `garble`, the first answer gives no verdict (the repair turn,
        after an answer of its own, gets one); `unreadable` of the judgments get none at all.
        Asked to think first, it writes a <think> block."""
        repairing = len(request.messages) > 2 and request.messages[-2][0] == "assistant"
        if self.garble and not repairing:
            return "Both have merits, and it is hard to say."
        if self.unreadable and self._rng("unreadable", request.messages[:2], request.seed).random() < self.unreadable:
            return "I would rather not say."  # first and repair alike
        logits = self._logits(ChoiceRequest(request.messages, request.answers, request.template))
        if request.temperature > 0:
            z = logits / request.temperature
            p = np.exp(z - z.max())
            p /= p.sum()
            rng = self._rng("sample", request.messages, request.seed)
            # Plackett-Luce over the answers a (near-zero) temperature leaves any chance; the rest follow by logit
            live = np.flatnonzero(p > 0)
            order = [int(x) for x in rng.choice(live, size=len(live), replace=False, p=p[live] / p[live].sum())]
            order += [int(x) for x in np.argsort(-logits, kind="stable") if p[x] == 0]
        else:
            order = [int(x) for x in np.argsort(-logits, kind="stable")]
        if request.ranked:
            verdict = "[[" + ", ".join(request.answers[n] for n in order) + "]]"
        else:
            verdict = request.written[order[0]] if request.written else request.answers[order[0]]
        thinking = "Begin with your reasoning" in request.messages[-1][1]
        return f"<think>Weighing what each shows.</think>\n{verdict}" if thinking else verdict

    def iter_choice_logprobs(self, requests: Sequence[ChoiceRequest]) -> Iterator[tuple[int, ChoiceResult]]:
        if not self._logprobs:
            raise NoLogprobs(f"{self.identity}: this stand-in gives no log-probabilities")
        for i, request in enumerate(requests):
            self.calls += 1
            if self.delay:
                time.sleep(self.delay)
            logp = log_softmax(self._logits(request))
            tokens = self.count_tokens(request.messages)
            self.last_tokens = tokens
            yield i, ChoiceResult(tuple(float(x) for x in logp), tokens, tokens)

    def iter_attention(self, requests: Sequence[AttentionRequest]) -> Iterator[tuple[int, AttentionResult]]:
        """ICR's stand-in: each segment's score is its grade plus seeded noise, and the first
        segment gets the position bias (0 for segments holding no known text)."""
        for i, request in enumerate(requests):
            self.calls += 1
            scores = []
            for n, segment in enumerate(request.segments):
                key = next((k for k in self.grades if k in segment), None)
                grade = self.grades[key] if key is not None else 0.0
                scores.append(grade + (self.position_bias if n == 0 else 0.0)
                              + self.noise * self._rng("attention", request.probe, segment).standard_normal())
            messages = (("user", request.head), *(("user", s) for s in request.segments), ("user", request.probe))
            tokens = self.count_tokens(messages)
            self.last_tokens = tokens
            yield i, AttentionResult(tuple(float(x) for x in scores), tokens, tokens)

    def iter_generate(self, requests: Sequence[GenerateRequest]) -> Iterator[tuple[int, Generation]]:
        """A verdict in words where the request names its answers (`_verdict`); else a listwise
        answer: the labels [1]..[n] of the items shown, best first by the same noisy,
        position-biased strengths as the choices; `garble` appends a duplicate, an invalid label
        and drops the last one, as small models do."""
        for i, request in enumerate(requests):
            self.calls += 1
            if request.answers:
                text = self._verdict(request)
                tokens = self.count_tokens(request.messages)
                self.last_tokens = tokens + len(text.split())
                yield i, Generation(text, tokens, len(text.split()), tokens)
                continue
            shown = self._shown(ChoiceRequest(request.messages, (), request.template))
            probe = ChoiceRequest(request.messages, tuple(str(n) for n in range(len(shown))), request.template)
            strength = self._logits(probe) if len(shown) >= 2 else np.zeros(len(shown))
            order = [int(n) + 1 for n in np.argsort(-strength, kind="stable")]
            if self.garble and len(order) > 2:
                order = order[:-1] + [order[0], len(order) + 5]
            text = " > ".join(f"[{n}]" for n in order)
            tokens = self.count_tokens(request.messages)
            self.last_tokens = tokens + len(order) * 2
            yield i, Generation(text, tokens, len(order) * 2, tokens)
