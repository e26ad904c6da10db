"""Running requests on an engine core in this process and waiting for them, timed: what the inference worker does,
without NATS (for benchmarks, tests and scripts)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from messages import GenerateRequest, TokenLogprob
from services.inference.engine_core import EngineCore
from services.inference.model_runner import ModelRunner, Outcome


@dataclass
class TimedSink:
    """A `Sink` that records when the first text came and when the request ended (perf_counter_ns), for a
    request of `choices` answers: `parts` and `outcome` are answer 0's, `answers` and `outcomes` every one's
    (by index), `logprobs` every answer's entries in order."""

    choices: int = 1
    started_ns: int = field(default_factory=time.perf_counter_ns)
    first_ns: int | None = None
    end_ns: int | None = None
    parts: list[str] = field(default_factory=list)
    answers: dict[int, list[str]] = field(default_factory=dict)
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    logprobs: dict[int, list[TokenLogprob]] = field(default_factory=dict)
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def text(self, piece: str, logprobs: list[TokenLogprob] | None = None, index: int = 0) -> None:
        if self.first_ns is None:
            self.first_ns = time.perf_counter_ns()
        if index == 0:
            self.parts.append(piece)
        self.answers.setdefault(index, []).append(piece)
        self.logprobs.setdefault(index, []).extend(logprobs or [])

    def done(self, outcome: Outcome) -> None:
        self.outcomes[outcome.index] = outcome
        self.logprobs.setdefault(outcome.index, []).extend(outcome.logprobs or [])
        if len(self.outcomes) >= self.choices:
            self.end_ns = time.perf_counter_ns()
            self.finished.set()

    @property
    def outcome(self) -> Outcome | None:
        return self.outcomes.get(0)

    def failed(self, error: BaseException) -> None:
        self.error = error
        self.end_ns = time.perf_counter_ns()
        self.finished.set()

    @property
    def ttft_ms(self) -> float:
        return (self.first_ns - self.started_ns) / 1e6 if self.first_ns else float("nan")

    @property
    def tokens(self) -> int:
        """Tokens of every answer."""
        return sum(outcome.completion_tokens for outcome in self.outcomes.values())


def run_direct(runner: ModelRunner, core: EngineCore, requests: list[GenerateRequest]) -> list[TimedSink]:
    """Submit every request at once (tokenizing and compiling its constraint included in each one's time) and
    wait for all of them.

    Raises RuntimeError when the engine core failed one; SwitchboardError from `ModelRunner.prepare` or
    `Grammars.compile` for a bad request."""
    sinks: list[TimedSink] = []
    for request in requests:
        sink = TimedSink(choices=request.params.n)
        job = runner.prepare(request)
        if request.constraint is not None:
            job.grammar = runner.grammars.compile(request.constraint)
        core.submit(job, sink)
        sinks.append(sink)
    for sink in sinks:
        sink.finished.wait()
        if sink.error is not None:
            raise RuntimeError(f"generation failed: {sink.error!r}")
    return sinks
