"""A small HTTP proxy that injects faults between a client and a real server, for tests.

Each request is read whole, then handled by the next fault of a cycle: None (forward it),
"500" (answer 500 without forwarding), "drop" (close without answering), "delay" (forward after
`delay` seconds, to trip the client's timeout), "truncate" (forward, then send half the reply's
body and close) or "down" (like drop, for every request from then on).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterable

from helpers.loopback import LoopbackServer


class FaultProxy(LoopbackServer):
    def __init__(self, upstream_port: int, faults: Iterable[str | None], delay: float = 3.0) -> None:
        super().__init__()
        self.upstream_port = upstream_port
        self._faults = itertools.cycle(list(faults) or [None])
        self.delay = delay
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self._down = False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                fault = "down" if self._down else next(self._faults)
                if fault == "down":
                    self._down = True
                if fault:
                    self.injected[fault] += 1
                if fault in ("drop", "down"):
                    return
                if fault == "500":
                    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    await writer.drain()
                    return
                if fault == "delay":
                    await asyncio.sleep(self.delay)
                reply = await self._forward(request)
                if fault == "truncate":
                    head, _, body = reply.partition(b"\r\n\r\n")
                    writer.write(head + b"\r\n\r\n" + body[: len(body) // 2])
                    await writer.drain()
                    return
                writer.write(reply)
                await writer.drain()
                self.forwarded += 1
                return  # the forwarded reply says Connection: close
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _forward(self, request: bytes) -> bytes:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        up_writer.write(request)
        await up_writer.drain()
        reply = await up_reader.read()  # the request asked for Connection: close
        up_writer.close()
        return reply


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
    if not head:
        return None
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        if name.lower() != "connection" and line:
            kept.append(line)
    body = await reader.readexactly(length) if length else b""
    return ("\r\n".join([*kept, "Connection: close", "", ""])).encode("latin-1") + body
