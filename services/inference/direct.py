"""Running requests on an engine core in this process and waiting for them, timed: what the inference worker does,
without NATS (for benchmarks, tests and scripts)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from messages import GenerateRequest
from services.inference.engine_core import EngineCore
from services.inference.model_runner import ModelRunner, Outcome


@dataclass
class TimedSink:
    """A `Sink` that records when the first text came and when the request ended (perf_counter_ns)."""

    started_ns: int = field(default_factory=time.perf_counter_ns)
    first_ns: int | None = None
    end_ns: int | None = None
    parts: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def text(self, piece: str) -> None:
        if self.first_ns is None:
            self.first_ns = time.perf_counter_ns()
        self.parts.append(piece)

    def done(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.end_ns = time.perf_counter_ns()
        self.finished.set()

    def failed(self, error: BaseException) -> None:
        self.error = error
        self.end_ns = time.perf_counter_ns()
        self.finished.set()

    @property
    def ttft_ms(self) -> float:
        return (self.first_ns - self.started_ns) / 1e6 if self.first_ns else float("nan")

    @property
    def tokens(self) -> int:
        return self.outcome.completion_tokens if self.outcome else 0


def run_direct(runner: ModelRunner, core: EngineCore, requests: list[GenerateRequest]) -> list[TimedSink]:
    """Submit every request at once (tokenizing included in each one's time) and wait for all of them.

    Raises RuntimeError when the engine core failed one; SwitchboardError from `ModelRunner.prepare` for a bad
    request."""
    sinks: list[TimedSink] = []
    for request in requests:
        sink = TimedSink()
        core.submit(runner.prepare(request), sink)
        sinks.append(sink)
    for sink in sinks:
        sink.finished.wait()
        if sink.error is not None:
            raise RuntimeError(f"generation failed: {sink.error!r}")
    return sinks
