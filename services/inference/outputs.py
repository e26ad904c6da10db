"""From the engine core's thread to the event loop: one request's text pieces (with their logprobs and choice
index), then how each of its answers ended (the role of vLLM's `RequestOutputCollector`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from messages import TokenLogprob

from .model_runner import Outcome


@dataclass(frozen=True)
class Piece:
    """Text of answer `index`, and the entries of the tokens it came from (None: not asked for)."""

    text: str
    logprobs: list[TokenLogprob] | None = None
    index: int = 0


class OutputQueue:
    """An `engine_core.Sink` whose results are read on the event loop that created it, for a job of `choices`
    answers.

    `events()` yields each `Piece` and each answer's `Outcome` in order, and returns once every answer has its
    outcome or the engine core failed (then `error` is set). `outcomes` holds the outcomes by answer index.
    """

    def __init__(self, choices: int = 1) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Piece | Outcome | BaseException] = asyncio.Queue()
        self.choices = choices
        self.outcomes: dict[int, Outcome] = {}
        self.error: BaseException | None = None

    def text(self, piece: str, logprobs: list[TokenLogprob] | None = None, index: int = 0) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, Piece(piece, logprobs, index))

    def done(self, outcome: Outcome) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, outcome)

    def failed(self, error: BaseException) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, error)

    async def events(self) -> AsyncIterator[Piece | Outcome]:
        while len(self.outcomes) < self.choices:
            item = await self._queue.get()
            if isinstance(item, BaseException):
                self.error = item
                return
            if isinstance(item, Outcome):
                self.outcomes[item.index] = item
            yield item

    async def pieces(self) -> AsyncIterator[str]:
        """Only the text, in order (for callers that read one answer, e.g. the warm-up)."""
        async for event in self.events():
            if isinstance(event, Piece):
                yield event.text
