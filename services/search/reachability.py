"""Whether the web can be reached at all, found out within seconds: offline, a search fails fast with OFFLINE
instead of spending its whole timeout (a resolver that does not answer costs ddgs the full SEARCH_TIMEOUT_S).

The backend's own check (`SearchBackend.unreachable`, a blocking call run in a thread) is given
`SEARCH_PROBE_TIMEOUT_S`; its answer is remembered for a while, so a burst of searches costs one check, and
concurrent searches share the check in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DOWN_REMEMBERED_S = 10.0  # an unreachable web is tried again after this long
UP_REMEMBERED_S = 60.0  # a reachable one is not checked again before this long


class Reachability:
    """`why_down()`: None when the web was reachable, else the reason in words (from `check`, or a timeout)."""

    def __init__(
        self,
        check: Callable[[float], str | None],
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self.timeout_s = timeout_s
        self._clock = clock
        self._answer: str | None = None
        self._valid_until = float("-inf")
        self._in_flight: asyncio.Task[str | None] | None = None

    async def why_down(self) -> str | None:
        if self._clock() < self._valid_until:
            return self._answer
        if self._in_flight is None:
            self._in_flight = asyncio.ensure_future(self._probe())
        task = self._in_flight
        try:
            return await asyncio.shield(task)
        finally:
            if task.done() and self._in_flight is task:
                self._in_flight = None

    async def _probe(self) -> str | None:
        try:
            # the thread outlives a timeout (a blocked DNS lookup cannot be interrupted); nothing waits for it
            answer = await asyncio.wait_for(asyncio.to_thread(self._check, self.timeout_s), self.timeout_s)
        except TimeoutError:
            answer = f"no answer from the network within {self.timeout_s:g}s"
        self._answer = answer
        self._valid_until = self._clock() + (DOWN_REMEMBERED_S if answer else UP_REMEMBERED_S)
        return answer
