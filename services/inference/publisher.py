"""Running one admitted generation and publishing its answers: every text piece as a `TokenChunk` on
`infer.tokens.<request_id>` (its answer's `index`, its tokens' `logprobs` when asked), numbered from 0 over
the whole request, then exactly one final chunk (`done`) that says how it ended, whatever happened. With
`n` > 1 each answer's last chunk carries its `finish_reason`; the request's final chunk is the last answer's,
with `usage` summed over every answer (the prompt counted once). Counts the finished requests, their tokens
and their latencies. Stream `TOKENS` keeps every chunk for replay."""

from __future__ import annotations

import logging
import time

from nats.aio.client import Client
from nats.js.api import DiscardPolicy, StorageType, StreamConfig

from messages import (
    ErrorCode,
    ErrorMessage,
    FinishReason,
    SwitchboardError,
    TokenChunk,
    TokenLogprob,
    ToolCall,
    Usage,
    encode,
    subjects,
)

from .adapters import Adapters
from .config import InferenceConfig
from .engine_core import EngineCore
from .gpu_lending import ModelGate
from .intake import Generation, Intake
from .metrics import InferenceMetrics
from .model_runner import Outcome
from .outputs import OutputQueue, Piece
from .tools import ToolCallParser, tool_finish_reason


def tokens_stream(config: InferenceConfig, replicas: int) -> StreamConfig:
    """Stream `TOKENS` on `infer.tokens.>`: what a client that lost its connection replays its answer from."""
    return StreamConfig(
        name=subjects.TOKENS_STREAM,
        description="Every generation's token chunks, for replay",
        subjects=[subjects.TOKENS_WILDCARD],
        storage=StorageType.FILE,
        max_age=config.tokens_max_age_s,
        max_bytes=config.tokens_max_bytes,
        discard=DiscardPolicy.OLD,
        num_replicas=replicas,
    )


class _Chunks:
    """One answer's chunks on `infer.tokens.<request_id>`. `sent` counts the text chunks published so far: it
    is the next chunk's `seq`, so the final chunk comes after every piece of text the client has seen."""

    def __init__(self, nc: Client, request_id: str) -> None:
        self._nc = nc
        self.request_id = request_id
        self.sent = 0

    async def text(self, piece: Piece, tool_calls: list[ToolCall] | None = None) -> None:
        chunk = TokenChunk(
            request_id=self.request_id,
            seq=self.sent,
            token=piece.text,
            index=piece.index,
            logprobs=piece.logprobs,
            tool_calls=tool_calls or None,
        )
        await self._nc.publish(self._subject, encode(chunk))
        self.sent += 1

    async def answer_end(self, reason: FinishReason, index: int, logprobs: list[TokenLogprob] | None) -> None:
        """Publish the last chunk of answer `index` while other answers still run (`finish_reason`, not done)."""
        chunk = TokenChunk(
            request_id=self.request_id, seq=self.sent, finish_reason=reason, index=index, logprobs=logprobs
        )
        await self._nc.publish(self._subject, encode(chunk))
        self.sent += 1

    async def final(
        self,
        reason: FinishReason,
        *,
        usage: Usage | None = None,
        error: ErrorMessage | None = None,
        index: int = 0,
        logprobs: list[TokenLogprob] | None = None,
    ) -> TokenChunk:
        """Publish the request's last chunk (`done`; the last answer's end) and flush it to the server; returns
        it."""
        chunk = TokenChunk(
            request_id=self.request_id,
            seq=self.sent,
            done=True,
            finish_reason=reason,
            usage=usage,
            error=error,
            index=index,
            logprobs=logprobs,
        )
        await self._nc.publish(self._subject, encode(chunk))
        await self._nc.flush()
        return chunk

    @property
    def _subject(self) -> str:
        return subjects.tokens_subject(self.request_id)


class Publisher:
    """Runs admitted generations on the engine core and publishes their chunks (see the module's docstring)."""

    def __init__(
        self,
        nc: Client,
        core: EngineCore,
        adapters: Adapters,
        gate: ModelGate,
        intake: Intake,
        metrics: InferenceMetrics,
        log: logging.Logger,
    ) -> None:
        self._nc = nc
        self._core = core
        self._adapters = adapters
        self._gate = gate
        self._intake = intake
        self._metrics = metrics
        self._log = log

    async def run(self, generation: Generation) -> None:
        """Apply the generation's adapter version, run it on the engine core, publish every chunk and the final
        one; then give up its place in `intake` and its adapter. Raises only what publishing the final chunk
        itself raised (NATS gone)."""
        job = generation.job
        chunks = _Chunks(self._nc, job.request_id)
        try:
            try:
                if generation.adapter is not None:
                    job.adapter_key = await self._adapters.acquire(generation.adapter, generation.adapter_revision)
                async with self._gate.read():
                    final = await self._generate(generation, chunks)
            except Exception as exc:  # the client always hears how its request ended, never silence
                if not isinstance(exc, SwitchboardError):
                    self._log.exception("generation failed", extra={"request_id": job.request_id})
                    exc = SwitchboardError(ErrorCode.INTERNAL, f"the inference worker failed: {type(exc).__name__}")
                final = await chunks.final(FinishReason.ERROR, error=exc.to_message())
            self._metrics.requests.labels((final.finish_reason or FinishReason.ERROR).value).inc()
            if final.usage is not None:
                self._metrics.prompt_tokens.inc(final.usage.prompt_tokens)
                self._metrics.generated_tokens.inc(final.usage.completion_tokens)
            self._log.info(
                "generation done",
                extra={
                    "request_id": job.request_id,
                    "adapter": generation.adapter or "-",
                    "finish": final.finish_reason,
                    "tokens": final.usage.completion_tokens if final.usage else 0,
                },
            )
        finally:
            self._intake.end(generation)
            if job.adapter_key is not None:
                await self._adapters.release(job.adapter_key)

    async def _generate(self, generation: Generation, chunks: _Chunks) -> TokenChunk:
        """Run the job on the engine core, publishing its answers' text as chunks and each answer's end; returns
        the final chunk (published). Every answer ends with a chunk of its own, even when the core fails."""
        job = generation.job
        outputs = OutputQueue(job.choices)
        self._core.submit(job, outputs)
        last_time = job.admitted
        last: Outcome | None = None
        last_reason = FinishReason.ERROR
        parsers = generation.tool_parsers
        held: dict[int, list[TokenLogprob]] = {}  # per answer: entries of text its tool-call parser holds
        async for event in outputs.events():
            if isinstance(event, Piece):
                first = chunks.sent == 0
                if parsers is None:
                    await chunks.text(event)
                else:  # the text of a `<tool_call>` block goes out as a call once the block closes
                    parsed = parsers[event.index].feed(event.text)
                    entries = event.logprobs
                    if entries is not None:  # a token's entry goes out with its text, or not at all
                        entries = held.pop(event.index, []) + entries
                        if not parsed:  # the text is held (a tag may be starting): its entries wait with it
                            held[event.index] = entries
                            continue
                        if parsed.calls:  # as in OpenAI's API, a call's tokens have no entries
                            entries = None
                    elif not parsed:
                        continue
                    await chunks.text(Piece(parsed.text, entries, event.index), parsed.calls)
                now = time.perf_counter()
                metric = self._metrics.time_to_first_token if first else self._metrics.time_per_output_token
                metric.observe(now - last_time)
                last_time = now
            elif len(outputs.outcomes) < job.choices:  # one answer ended, others still run
                reason = await self._flush_tool_calls(parsers, event, chunks, held.pop(event.index, None))
                await chunks.answer_end(self._reason(reason), event.index, event.logprobs)
            else:
                last = event
                last_reason = await self._flush_tool_calls(parsers, event, chunks, held.pop(event.index, None))
        if last is None:
            failure = outputs.error
            if isinstance(failure, SwitchboardError):  # the engine's own verdict on this request (a dead grammar)
                verdict = failure.to_message()
            else:
                self._log.error("generation failed", extra={"request_id": job.request_id, "error": repr(failure)})
                verdict = ErrorMessage(ErrorCode.INTERNAL, f"generation failed: {failure}")
            unfinished = [i for i in range(job.choices) if i not in outputs.outcomes]
            for index in unfinished[:-1]:
                await chunks.answer_end(FinishReason.ERROR, index, None)
            return await chunks.final(FinishReason.ERROR, error=verdict, index=unfinished[-1] if unfinished else 0)
        reason = self._reason(last_reason)
        error = None
        if reason is FinishReason.ERROR:
            error = ErrorMessage(ErrorCode.UNAVAILABLE, "the inference worker shut down mid-answer")
        usage = Usage(job.prompt_tokens, sum(outcome.completion_tokens for outcome in outputs.outcomes.values()))
        return await chunks.final(reason, usage=usage, error=error, index=last.index, logprobs=last.logprobs)

    @staticmethod
    async def _flush_tool_calls(
        parsers: list[ToolCallParser] | None,
        outcome: Outcome,
        chunks: _Chunks,
        held: list[TokenLogprob] | None,
    ) -> FinishReason:
        """At an answer's end, publish what its tool-call parser still held (an unclosed block goes out as
        text, with `held`, the entries of its tokens); the answer's finish reason, `tool_calls` when it called
        a function and stopped on its own."""
        if parsers is None:
            return outcome.finish_reason
        parser = parsers[outcome.index]
        rest = parser.finish()
        if rest:
            await chunks.text(Piece(rest.text, None if rest.calls else held, outcome.index), rest.calls)
        return tool_finish_reason(outcome.finish_reason, parser.calls)

    def _reason(self, reason: FinishReason) -> FinishReason:
        """How an answer ended as the client hears it: cancelled by a shutdown is an error."""
        if reason is FinishReason.CANCELLED and self._intake.shutting_down:
            return FinishReason.ERROR
        return reason
