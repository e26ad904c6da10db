"""A readers-writer gate: generations read the model, lending the GPU to a fine-tune (dropping the model)
and taking it back change it.

Writers wait for running generations to finish and new generations wait behind a waiting writer, so a
hand-off cannot starve and never happens under a running generation. (Adapter loads do not need it: they
run between decode steps, `EngineCore.between_steps`, and requests name their adapter per row.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class ModelGate:
    def __init__(self) -> None:
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            async with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        async with self._changed:
            self._writers_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._writing and self._readers == 0)
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            async with self._changed:
                self._writing = False
                self._changed.notify_all()
