"""Backend for any OpenAI-compatible server: vLLM, SGLang, llama.cpp's server, Ollama, hosted APIs.

Choice tokens are scored from `top_logprobs` of a one-token completion; text is generated for
listwise prompts and for verdicts in words; token counts come from `usage`. A server that gives
no log-probabilities (no `top_logprobs` in its reply, or a 400 that names them) raises
NoLogprobs, which tells the judges to ask in words. A reasoning model's separate channel
(`reasoning_content`, or `reasoning`) is kept beside the text. A server that wants
`max_completion_tokens` instead of `max_tokens` (a 400 that names it) gets it from then on. A batch goes out in parallel, at most
`concurrency` requests at a time, on an event loop in a background thread, and results are
yielded as they arrive, so that the cache keeps each one at once. Timeouts, dropped connections,
truncated bodies, 429 and 5xx are retried with exponential backoff; when the retries of one
request run out, the batch's other results are still yielded before the error is raised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import httpx
import tenacity
from scipy.special import logsumexp

from judgerank.backends.base import Backend, ChoiceRequest, ChoiceResult, GenerateRequest, Generation, Message
from judgerank.core.errors import BackendError, JudgerankError, NoLogprobs

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class _Retryable(Exception):
    """A failure worth another attempt (the message says what happened); `status` is what a
    gateway answers if the retries run out: 504 timed out, 503 unreachable, 502 bad reply."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


class OpenAICompatBackend(Backend):
    """base_url: up to and including /v1; endpoint: "chat" (/chat/completions, the server
    applies the model's chat template) or "completions" (/completions, messages joined as
    plain text). The API key is read from the environment variable `api_key_env`, if set.

    top_logprobs: how many top tokens to ask for. OpenAI allows 20; llama.cpp's server and vLLM
    (with --max-logprobs) allow more. A choice outside them gets the k-th log-probability, an
    upper bound; `bounded_choices` counts how often that happened.

    The cache identity holds what changes a result (the served model, the endpoint kind,
    top_logprobs) and not the URL, so the same model behind another address shares judgments;
    `namespace` keeps two servers apart when that is wanted."""

    concurrent = True  # many threads may send batches at once; `concurrency` bounds the requests

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        endpoint: str = "chat",
        api_key_env: str | None = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.25,
        top_logprobs: int = 20,
        namespace: str | None = None,
    ) -> None:
        if endpoint not in ("chat", "completions"):
            raise JudgerankError(f"endpoint must be chat or completions, not {endpoint!r}")
        if concurrency < 1 or retries < 0:
            raise JudgerankError("concurrency must be positive and retries not negative")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.endpoint = endpoint
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.top_logprobs = top_logprobs
        self.identity = f"openai:{namespace + '/' if namespace else ''}{model}:{endpoint}:top{top_logprobs}"
        key = os.environ.get(api_key_env) if api_key_env else None
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.bounded_choices = 0  # choices scored by the top-k bound, not their own log-probability
        self._length_field = "max_tokens"  # or max_completion_tokens, once the server asks for it
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="judgerank-http", daemon=True)
        self._thread.start()
        self._client: httpx.AsyncClient | None = None
        self._limit: asyncio.Semaphore | None = None
        self._reached = False  # a connection has worked: from then on a refused one is worth retrying

    @property
    def url(self) -> str:
        return f"{self.base_url}/{'chat/completions' if self.endpoint == 'chat' else 'completions'}"

    # --- public protocol ---------------------------------------------------------------------

    def iter_choice_logprobs(self, requests: Sequence[ChoiceRequest]) -> Iterator[tuple[int, ChoiceResult]]:
        yield from self._run([self._choice(r) for r in requests])

    def iter_generate(self, requests: Sequence[GenerateRequest]) -> Iterator[tuple[int, Generation]]:
        yield from self._run([self._generate(r) for r in requests])

    def close(self) -> None:
        """Close the HTTP client and stop the event loop thread; idempotent."""
        if self._loop.is_closed():
            return
        if self._client is not None:
            asyncio.run_coroutine_threadsafe(self._client.aclose(), self._loop).result()
            self._client = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> OpenAICompatBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the batch runner --------------------------------------------------------------------

    def _run(self, coroutines: list[Any]) -> Iterator[tuple[int, Any]]:
        futures = {asyncio.run_coroutine_threadsafe(c, self._loop): i for i, c in enumerate(coroutines)}
        failure: BaseException | None = None
        try:
            for future in concurrent.futures.as_completed(futures):
                try:
                    result = future.result()
                except JudgerankError as exc:
                    failure = failure or exc  # keep yielding what did finish
                    continue
                yield futures[future], result
        finally:
            for future in futures:
                future.cancel()
        if failure is not None:
            raise failure

    async def _post(self, body: dict) -> tuple[dict, int]:
        """POST with retries; returns the JSON reply and the retries it took."""
        if self._client is None or self._limit is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, headers=self._headers)
            self._limit = asyncio.Semaphore(self.concurrency)
        limit = self._limit
        attempts = 0
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=tenacity.wait_exponential(multiplier=self.backoff, max=10 * self.backoff + 5)
            + tenacity.wait_random(0, self.backoff),
            reraise=True,
        )
        try:
            async with limit:
                async for attempt in retrying:
                    with attempt:
                        attempts += 1
                        return await self._attempt(body), attempts - 1
        except _Retryable as exc:
            raise BackendError(f"{self.url}: gave up after {attempts} attempts ({exc})", exc.status) from None
        raise AssertionError("unreachable")

    async def _attempt(self, body: dict) -> dict:
        assert self._client is not None  # made by _post on the loop thread
        try:
            response = await self._client.post(self.url, json=body)
        except httpx.TimeoutException:
            raise _Retryable(f"timed out after {self.timeout:g} s", 504) from None
        except httpx.ConnectError as exc:  # refused, no route: the server is not there
            if not self._reached:  # never there: a wrong --base-url or a server not started, said at once
                raise BackendError(f"{self.url}: cannot connect ({exc}): is the server running at that address? "
                                   "Check --base-url", 503) from None
            raise _Retryable(f"cannot connect: {exc}", 503) from None
        except httpx.TransportError as exc:  # reset, dropped, truncated
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        self._reached = True
        if response.status_code in RETRY_STATUS:
            raise _Retryable(f"HTTP {response.status_code}", 503 if response.status_code in (429, 503) else 502)
        if response.status_code >= 400:
            text = response.text[:300]
            if response.status_code == 400 and "logprobs" in body and "logprob" in text.lower():
                raise NoLogprobs(f"{self.url}: HTTP {response.status_code}: the server gives no log-probabilities "
                                 f"({text[:160]})")
            raise BackendError(f"{self.url}: HTTP {response.status_code}: {text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise _Retryable("reply is not JSON (truncated?)") from None

    # --- requests and replies ----------------------------------------------------------------

    def _body(self, messages: Sequence[Message], max_tokens: int, temperature: float = 0.0, seed: int = 0) -> dict:
        body: dict = {"model": self.model, self._length_field: max_tokens, "temperature": temperature}
        if temperature > 0:
            body["seed"] = seed
        if self.endpoint == "chat":
            body["messages"] = [{"role": r, "content": c} for r, c in messages]
        else:
            body["prompt"] = "\n\n".join(c for _, c in messages) + "\n\nAnswer:"
        return body

    async def _choice(self, request: ChoiceRequest) -> ChoiceResult:
        body = self._body(request.messages, 1)
        if self.endpoint == "chat":
            body |= {"logprobs": True, "top_logprobs": self.top_logprobs}
        else:
            body["logprobs"] = self.top_logprobs
        reply, retries = await self._send(body)
        result, bounded = read_choice_reply(reply, self.endpoint, request.choices, self.url)
        self.gives_logprobs = True
        self.bounded_choices += bounded
        return replace(result, retries=retries)

    async def _generate(self, request: GenerateRequest) -> Generation:
        reply, retries = await self._send(self._body(request.messages, request.max_tokens, request.temperature,
                                                     request.seed))
        return replace(read_generation_reply(reply, self.endpoint, self.url), retries=retries)

    async def _send(self, body: dict) -> tuple[dict, int]:
        """_post, once more with max_completion_tokens when the server refuses max_tokens for it
        (reasoning models on OpenAI's API); the server's choice is kept for later requests."""
        try:
            return await self._post(body)
        except BackendError as exc:
            if "HTTP 400" not in str(exc) or "max_completion_tokens" not in str(exc) or "max_tokens" not in body:
                raise
            self._length_field = "max_completion_tokens"
            body = {("max_completion_tokens" if k == "max_tokens" else k): v for k, v in body.items()}
            return await self._post(body)


def _usage(reply: dict, completion: int = 0) -> tuple[int, int, int]:
    """(prompt, cached prompt, completion) tokens of a reply's usage; zeros (and `completion`)
    where it says nothing."""
    usage = reply.get("usage") or {}
    if not isinstance(usage, dict):
        raise TypeError(f"usage is {type(usage).__name__}, not an object")
    details = usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    return int(usage.get("prompt_tokens") or 0), int(cached or 0), int(usage.get("completion_tokens", completion))


def read_choice_reply(reply: Any, endpoint: str, choices: Sequence[str], url: str = "") -> tuple[ChoiceResult, int]:
    """The choices' log-probabilities from a model server's reply (chat or completions layout),
    and how many were bounded (see _choice_logprobs). Any other shape is a BackendError."""
    try:
        logprobs = reply["choices"][0]["logprobs"]
        if endpoint == "chat":
            pairs = [(t["token"], t["logprob"]) for t in logprobs["content"][0]["top_logprobs"]]
        else:
            pairs = list(logprobs["top_logprobs"][0].items())
        top = {}
        for token, lp in pairs:
            value = float(lp)
            if not isinstance(token, str) or not math.isfinite(value) or value > 1e-6:
                raise ValueError(f"top log-probability {token!r}: {lp!r}")
            top[token] = value
        prompt_tokens, cached, completion = _usage(reply, 1)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise NoLogprobs(f"{url}: reply without top log-probabilities ({exc!r})"[:300]) from None
    logprobs, bounded = _choice_logprobs(top, choices)
    return ChoiceResult(logprobs, prompt_tokens, prompt_tokens - cached, completion_tokens=completion), bounded


def read_generation_reply(reply: Any, endpoint: str, url: str = "") -> Generation:
    """The generated text and token counts of a model server's reply; any other shape is a BackendError."""
    try:
        choice = reply["choices"][0]
        message = choice["message"] if endpoint == "chat" else {}
        text = message["content"] if endpoint == "chat" else choice["text"]
        reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
        if text is not None and not isinstance(text, str) or not isinstance(reasoning, str):
            raise TypeError(f"generated text is {type(text).__name__}, not a string")
        prompt_tokens, _, completion = _usage(reply)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise BackendError(f"{url}: reply without generated text ({exc!r})"[:300]) from None
    return Generation(text or "", prompt_tokens, completion, prompt_tokens, reasoning=reasoning)


def _choice_logprobs(top: dict[str, float], choices: Sequence[str]) -> tuple[tuple[float, ...], int]:
    """log P(choice) from the top tokens: the token that is the choice exactly, as the in-process
    backend scores it; else the sum over tokens that spell it with spaces (' A'). A choice outside
    the top k gets the k-th log-probability: the most it can have. Returns the log-probabilities
    and how many were bounded so."""
    if not top:
        raise BackendError("reply has an empty top_logprobs list")
    floor = min(top.values())
    out = []
    bounded = 0
    for choice in choices:
        if choice in top:
            out.append(top[choice])
            continue
        matches = [lp for token, lp in top.items() if token.strip() == choice.strip()]
        bounded += not matches
        out.append(float(logsumexp(matches)) if matches else floor)
    return tuple(out), bounded
