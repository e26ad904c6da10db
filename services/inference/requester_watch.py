"""Cancel generations whose requester is gone: a gateway killed mid-answer leaves no one to send the cancel,
so the worker asks the requester itself.

Every `CHECK_EVERY_S` the worker asks each running request's `requester_ping` subject (body: the request id).
No responder (the requester's connection is gone) or `unknown` (it no longer wants the request) cancels the
generation at its next decode step; a requester that leaves `SILENT_LIMIT` asks in a row unanswered (busy,
or cut off from NATS) is given up too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError

from messages import subjects

from .intake import Generation

CHECK_EVERY_S = 2.0  # a killed gateway's generations stop within about this long (plus one decode step)
ASK_TIMEOUT_S = 1.0  # a live gateway answers from its event loop in milliseconds
SILENT_LIMIT = 5  # unanswered asks in a row (about 10 s) before a requester that may be busy is given up


class RequesterWatch:
    """Runs beside the worker's generations; `cancel(generation, why)` is called for each abandoned one."""

    def __init__(
        self,
        nc: Client,
        running: Callable[[], Iterable[Generation]],
        cancel: Callable[[Generation, str], None],
        log: logging.Logger,
    ) -> None:
        self._nc = nc
        self._running = running
        self._cancel = cancel
        self._log = log
        self._silent: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            watched = [
                (generation, generation.requester_ping)
                for generation in self._running()
                if generation.requester_ping and not generation.job.cancel.is_set()
            ]
            self._silent = {g.request_id: self._silent.get(g.request_id, 0) for g, _ in watched}
            await asyncio.gather(*(self._ask(generation, ping) for generation, ping in watched))

    async def _ask(self, generation: Generation, ping: str) -> None:
        request_id = generation.request_id
        try:
            reply = await self._nc.request(ping, request_id.encode(), timeout=ASK_TIMEOUT_S)
        except NoRespondersError:
            self._cancel(generation, "its requester is gone")
            return
        except (NatsError, TimeoutError):
            self._silent[request_id] = silent = self._silent.get(request_id, 0) + 1
            if silent >= SILENT_LIMIT:
                self._cancel(generation, f"its requester left {silent} checks unanswered")
            return
        self._silent[request_id] = 0
        if reply.data != subjects.PING_ACTIVE:
            self._cancel(generation, "its requester no longer wants it")
