"""Defences at the connection: what uvicorn is run with, so that stalled clients cannot hold the
server. Each request's head must arrive within `header_timeout` seconds of the connection opening
(or of the data that starts it, on a kept-alive connection), else the connection is closed;
its body within `body_timeout` (the app's BodyLimit answers 408); and at most `max_connections`
connections are held at once (uvicorn answers 503 past them).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def head_deadline_protocol(header_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline on each request's head."""

    class HeadDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._waiting_for_head():
                if self._deadline is None:
                    self._arm()
            elif self._deadline is not None:  # the head came: the body has a deadline of its own
                self._deadline.cancel()
                self._deadline = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _waiting_for_head(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(header_timeout, self._too_slow)

        def _too_slow(self) -> None:
            self._deadline = None
            if self._waiting_for_head() and not self.transport.is_closing():
                self.transport.close()

    return HeadDeadline


def uvicorn_options(header_timeout: float, max_connections: int) -> dict[str, Any]:
    """The keyword arguments of uvicorn.run / uvicorn.Config that carry these defences."""
    return {"http": head_deadline_protocol(header_timeout), "limit_concurrency": max_connections}
