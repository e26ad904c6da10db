"""Spacing backend calls: at most one per interval, later callers wait their turn or are turned away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimited(Exception):
    """Waiting for a turn would take longer than the caller can wait."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"next turn in {wait_s:.1f}s")
        self.wait_s = wait_s


class MinIntervalLimiter:
    """Hands out turns `interval_s` apart, first come first served.

    A turn is reserved the moment it is granted (no await in between), so concurrent callers on one event
    loop never share a turn; a caller that would wait longer than `max_wait_s` reserves nothing.
    """

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._next_turn = float("-inf")

    def reserve(self, max_wait_s: float) -> float:
        """Reserve the next turn and return how long to wait for it; raise `RateLimited` if too long."""
        now = self._clock()
        turn = max(now, self._next_turn)
        wait_s = turn - now
        if wait_s > max_wait_s:
            raise RateLimited(wait_s)
        self._next_turn = turn + self.interval_s
        return wait_s

    async def acquire(self, max_wait_s: float) -> float:
        """Wait for a turn; return the seconds waited. Raises `RateLimited` without waiting if too long."""
        wait_s = self.reserve(max_wait_s)
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        return wait_s
