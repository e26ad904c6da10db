"""One request at a time with `model.generate` (`INFERENCE_ENGINE=sequential`): the fallback for models the
batched engine cannot batch (sliding-window or quantized caches), and the baseline of `bench.concurrency`.

Requests run in the order they were admitted, on one thread; the others wait their turn. One at a time is
also what keeps each request's adapter (peft's per-call hooks) and seed (`torch.manual_seed` is global) its
own here.

Structured output (a constraint), logprobs and `n` > 1 are the batched core's: this one refuses them at
admission (`check_supported`), naming the field.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from messages import ErrorCode, FinishReason, GenerateRequest, SwitchboardError

from .decoding import TextStream
from .engine_core import Occupancy, Sink
from .model_runner import BASE, Job, ModelRunner, Outcome
from .tools import forces_grammar


class SequentialCore:
    """`model.generate` for one request at a time, in admission order."""

    name = "sequential"

    def __init__(self, runner: ModelRunner) -> None:
        self._runner = runner
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="generate")
        self._queued = 0
        self._running = 0
        self._lock = threading.Lock()

    def submit(self, job: Job, sink: Sink) -> None:
        with self._lock:
            self._queued += 1
        try:
            self._executor.submit(self._run, job, sink)
        except RuntimeError as exc:  # the executor was shut down
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "this inference worker is shutting down") from exc

    def between_steps(self, change: Any) -> Future[Any]:
        return self._executor.submit(change)

    def wake(self) -> None:
        return None  # `generate` checks the cancel flag at every step on its own

    def occupancy(self) -> Occupancy:
        with self._lock:
            return Occupancy(decoding=self._running, waiting=self._queued, kv_cache_bytes=0)

    def check_supported(self, request: GenerateRequest) -> None:
        params = request.params
        asked = [
            (request.constraint is not None, "constraint", "structured output"),
            (forces_grammar(request), "tool_choice", "tool calls held to their schemas"),
            (params.n > 1, "params.n", "more than one answer"),
            (params.logprobs, "params.logprobs", "logprobs"),
            (params.top_logprobs > 0, "params.top_logprobs", "logprobs"),
        ]
        for wanted, field, what in asked:
            if wanted:
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST,
                    f"asks for {what}, which only the batched engine gives; this worker runs "
                    "INFERENCE_ENGINE=sequential (use INFERENCE_ENGINE=batched)",
                    field,
                )

    def check_room(self, job: Job, admitted: list[Job]) -> None:
        return None  # one request at a time: its cache is `generate`'s own, bounded by the context

    def stop(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)

    def _run(self, job: Job, sink: Sink) -> None:
        with self._lock:
            self._queued -= 1
            self._running += 1
        try:
            sink.done(self._generate(job, sink))
        except BaseException as exc:
            sink.failed(exc)
        finally:
            with self._lock:
                self._running -= 1

    def _generate(self, job: Job, sink: Sink) -> Outcome:
        runner = self._runner
        stream = runner.text_stream(job)
        if job.cancel.is_set():
            return Outcome(finish_reason=FinishReason.CANCELLED, completion_tokens=0)
        params = job.params
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
            if params.temperature > 0
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        if params.seed is not None:
            torch.manual_seed(params.seed)  # global, but nothing else samples while this request runs
        if runner.model is not runner.base_model:  # a PeftModel: choose the adapter for this call
            sampling["adapter_names"] = [job.adapter_key or BASE]
        input_ids = job.input_ids.to(runner.model.device)
        with torch.inference_mode():
            runner.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=job.max_new_tokens,
                streamer=_SinkStreamer(stream, sink),
                stopping_criteria=StoppingCriteriaList([_Halt(job.cancel, stream)]),
                pad_token_id=runner.pad_id,
                **sampling,
            )
        if job.cancel.is_set():
            return Outcome(finish_reason=FinishReason.CANCELLED, completion_tokens=stream.count)
        tail = stream.tail()
        if tail:
            sink.text(tail)
        reason = FinishReason(stream.finish_reason) if stream.finish_reason else FinishReason.LENGTH
        return Outcome(finish_reason=reason, completion_tokens=stream.count)


class _SinkStreamer(BaseStreamer):
    """A `generate` streamer: receives ids (the prompt first, then one token per step) and sends their text
    to the request's sink."""

    def __init__(self, stream: TextStream, sink: Sink) -> None:
        self._stream = stream
        self._sink = sink
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for token_id in value.reshape(-1).tolist():
            text = self._stream.push(int(token_id))
            if text:
                self._sink.text(text)

    def end(self) -> None:
        return None


class _Halt(StoppingCriteria):
    """Stops generation within one token of a cancel, a stop string or the end of turn."""

    def __init__(self, cancel: threading.Event, stream: TextStream) -> None:
        self._cancel = cancel
        self._stream = stream

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        halt = self._cancel.is_set() or self._stream.finish_reason is not None
        return torch.full((input_ids.shape[0],), halt, dtype=torch.bool, device=input_ids.device)
