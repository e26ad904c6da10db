"""Lending this host's GPU to a fine-tuning job and taking it back (`svc.inference.gpu.release` and
`.reclaim`, sent by the training service on the same host), and the gate that keeps a hand-off from happening
under a running generation.

The gate is a readers-writer lock: generations read the model; lending the GPU (dropping the model) and
taking it back change it. Writers wait for running generations to finish and new generations wait behind a
waiting writer, so a hand-off cannot starve and never happens under a running generation. (Adapter loads do
not need it: they run between decode steps, `EngineCore.between_steps`, and requests name their adapter per
row.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

from nats.aio.msg import Msg

from messages import GpuHandoff, SwitchboardError, decode

from .adapters import Adapters, BetweenSteps
from .model_runner import ModelRunner


class ModelGate:
    """Generations `read`; a GPU hand-off `write`s (see the module's docstring)."""

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


class GpuLending:
    """Who holds this host's GPU: `lent_to` names the fine-tuning job holding it (None: this worker). While it
    is lent, new requests are refused (`intake`) and `modelInfo.state` is `released`. On CPU nothing moves."""

    def __init__(
        self, runner: ModelRunner, adapters: Adapters, between_steps: BetweenSteps, log: logging.Logger
    ) -> None:
        self._runner = runner
        self._adapters = adapters
        self._between_steps = between_steps
        self._log = log
        self.gate = ModelGate()  # generations hold it for reading while they run
        self.lent_to: str | None = None

    async def hand_off(self, msg: Msg, *, release: bool) -> bool:
        """Lend the GPU (`release`) or take it back, as the `GpuHandoff` in `msg` asks. Lending waits for the
        running generations to finish; taking it back loads the model again and re-applies the active adapter.
        Returns False when the message is not for this host (or malformed), True when it was handled."""
        try:
            handoff = decode(msg.data, GpuHandoff)
        except SwitchboardError:
            return False
        if handoff.host != socket.gethostname():
            return False
        if self._runner.device == "cuda":
            if release and self.lent_to is None:
                self.lent_to = handoff.job_id  # new requests are refused from here on
                async with self.gate.write():  # running generations finish first
                    await self._between_steps(self._runner.release)
                    self._adapters.forget_loaded()
                self._log.info("gpu lent", extra={"job_id": handoff.job_id})
            elif not release and self.lent_to is not None:
                async with self.gate.write():
                    await self._between_steps(self._runner.reclaim)
                self.lent_to = None
                active = self._adapters.active
                if active is not None:
                    with contextlib.suppress(SwitchboardError):
                        await self._adapters.apply(active)
                self._log.info("gpu reclaimed", extra={"job_id": handoff.job_id})
        return True
