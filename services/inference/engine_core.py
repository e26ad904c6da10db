"""The engine core's interface, as vLLM names it: what the actor needs from the loop that runs requests on
the model (`model_runner.ModelRunner`). Submit a job, run a model change between decode steps, report
occupancy. Two cores implement it: `batched.BatchedCore` (continuous batching, the default) and
`sequential.SequentialCore` (one request at a time with `model.generate`, the fallback)."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from messages import GenerateRequest, TokenLogprob

from .model_runner import Job, Outcome


class Sink(Protocol):
    """Where an engine core sends one request's results. Called on the core's thread: for each of the job's
    answers (`index` 0 to `job.choices` - 1), `text` any number of times then its `done`; or, at any point,
    `failed` once, which ends every answer not done yet. `outputs.OutputQueue` carries them to the event loop.

    `text`'s `logprobs`: one entry per token the piece came from (None when the request did not ask)."""

    def text(self, piece: str, logprobs: list[TokenLogprob] | None = None, index: int = 0) -> None: ...

    def done(self, outcome: Outcome) -> None: ...

    def failed(self, error: BaseException) -> None: ...


@dataclass(frozen=True)
class Occupancy:
    """How full the engine core is now: requests decoding in the batch, requests admitted but still waiting or
    being prefilled, and the bytes the KV cache holds (0 where the core does not keep one between calls)."""

    decoding: int
    waiting: int
    kv_cache_bytes: int


class EngineCore(Protocol):
    """The loop that runs jobs on the model runner, on a thread of its own. `submit`, `between_steps`, `wake`
    and `stop` may be called from any thread; `check_room` on the event loop only."""

    name: str  # "batched" or "sequential", as `modelInfo.engine` shows it

    def submit(self, job: Job, sink: Sink) -> None:
        """Queue `job`; its results go to `sink`. A set `job.cancel` ends it within one decode step.

        Raises `SwitchboardError` UNAVAILABLE once `stop` has begun."""

    def between_steps(self, change: Any) -> Future[Any]:
        """Run `change()` on the core's thread where no forward pass runs (adapter loads and unloads, lending
        the GPU). Returns a future of its result; it fails with UNAVAILABLE once the core is stopping."""

    def wake(self) -> None:
        """Look at cancels now (a cancel flag was set)."""

    def occupancy(self) -> Occupancy:
        """What the core holds now (read without locks: a snapshot for metrics and `modelInfo`)."""

    def check_supported(self, request: GenerateRequest) -> None:
        """Raise `SwitchboardError` BAD_REQUEST, naming the field, when this core cannot run what `request`
        asks for (the sequential core: a constraint, logprobs, `n` > 1)."""

    def check_room(self, job: Job, admitted: list[Job]) -> None:
        """Raise `SwitchboardError` BUSY when `job` cannot join the `admitted` ones now without passing the KV
        cache budget, BAD_REQUEST when it could not fit even alone."""

    def stop(self) -> None:
        """End every request still queued or running (their sinks hear `done` with CANCELLED) and the
        core's thread."""
