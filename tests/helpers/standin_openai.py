"""A slow OpenAI-compatible stand-in server, for tests and benches of concurrency: it answers
/v1/chat/completions after `delay` seconds (asyncio, so many requests wait at once) with
top_logprobs that depend on the prompt, and counts the requests it saw and the most in flight.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math

from helpers.loopback import LoopbackServer

TOKENS = ["Yes", "No", "A", "B", "C", "0", "1", "2", "3", "4", "5"]


class StandinOpenAI(LoopbackServer):
    def __init__(self, delay: float = 0.2) -> None:
        super().__init__()
        self.delay = delay
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, close = 0, False
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                    close |= line.lower().replace(" ", "") == "connection:close"
                body = json.loads(await reader.readexactly(length)) if length else {}
                self.requests += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    await asyncio.sleep(self.delay)
                finally:
                    self.in_flight -= 1
                payload = json.dumps(self.reply(body)).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
                await writer.drain()
                if close:  # as asked (the fault proxy reads each reply to the end of the stream)
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def reply(body: dict) -> dict:
        prompt = json.dumps(body.get("messages", body.get("prompt")))
        digest = hashlib.sha256(prompt.encode()).digest()
        weights = [1.0 + b / 32 for b in digest[: len(TOKENS)]]
        log_z = math.log(sum(math.exp(w) for w in weights))
        top = [{"token": t, "logprob": w - log_z} for t, w in zip(TOKENS, weights)]
        top.sort(key=lambda t: -t["logprob"])
        words = len(prompt.split())
        return {
            "choices": [{"message": {"role": "assistant", "content": top[0]["token"]},
                         "logprobs": {"content": [{"token": top[0]["token"], "logprob": top[0]["logprob"],
                                                   "top_logprobs": top[: body.get("top_logprobs", 20)]}]}}],
            "usage": {"prompt_tokens": words, "completion_tokens": 1, "total_tokens": words + 1},
        }
