"""From the engine core's thread to the event loop: one request's text pieces, then how it ended (the role of
vLLM's `RequestOutputCollector`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .model_runner import Outcome


class OutputQueue:
    """An `engine_core.Sink` whose results are read on the event loop that created it.

    `pieces()` yields each text piece in order and returns when the request ends; then `outcome` is set, or
    `error` when the engine core failed.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[str | Outcome | BaseException] = asyncio.Queue()
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None

    def text(self, piece: str) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, piece)

    def done(self, outcome: Outcome) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, outcome)

    def failed(self, error: BaseException) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, error)

    async def pieces(self) -> AsyncIterator[str]:
        while isinstance(item := await self._queue.get(), str):
            yield item
        if isinstance(item, Outcome):
            self.outcome = item
        else:
            self.error = item
