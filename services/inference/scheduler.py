"""What the actor needs from an engine: submit a prepared request, run a model change between decode steps,
report occupancy. Two engines implement it: `batched.BatchedScheduler` (continuous batching, the default)
and `sequential.SequentialScheduler` (one request at a time with `model.generate`, the fallback)."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from .engine import Outcome, Prepared


class Sink(Protocol):
    """Where an engine sends one request's results. Called on the engine's thread, in this order: `text`
    any number of times, then exactly one of `done` or `failed`."""

    def text(self, piece: str) -> None: ...

    def done(self, outcome: Outcome) -> None: ...

    def failed(self, error: BaseException) -> None: ...


@dataclass(frozen=True)
class Occupancy:
    """How full the engine is now: requests decoding in the batch, requests admitted but still waiting or
    being prefilled, and the bytes the KV cache holds (0 where the engine does not keep one between calls)."""

    decoding: int
    waiting: int
    kv_cache_bytes: int


class Scheduler(Protocol):
    name: str  # "batched" or "sequential", as `modelInfo.engine` shows it

    def submit(self, job: Prepared, sink: Sink) -> None:
        """Queue `job`; results go to `sink`. A set `job.cancel` ends it within one decode step."""

    def between_steps(self, change: Any) -> Future[Any]:
        """Run `change()` on the engine's thread where no forward pass runs (adapter loads and unloads)."""

    def wake(self) -> None:
        """Look at cancels now (a cancel flag was set)."""

    def occupancy(self) -> Occupancy: ...

    def check_room(self, job: Prepared, admitted: list[Prepared]) -> None:
        """Raise `SwitchboardError` BUSY when `job` cannot join the `admitted` ones now without passing the KV
        cache budget, BAD_REQUEST when it could not fit even alone."""

    def stop(self) -> None:
        """End every request still queued or running (their sinks hear `done` with CANCELLED) and the
        engine's thread."""
