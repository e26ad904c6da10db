"""The inference actor: `svc.inference.generate` and `.info`, token chunks on `infer.tokens.<id>`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from nats.aio.msg import Msg
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.micro.request import Request
from prometheus_client import CollectorRegistry
from transformers import DynamicCache

from messages import (
    Accept,
    ErrorCode,
    ErrorMessage,
    FinishReason,
    FollowActive,
    GenerateRequest,
    GenerationParams,
    GpuHandoff,
    ModelInfo,
    SwitchboardError,
    TokenChunk,
    Usage,
    decode,
    encode,
    subjects,
)
from services.runtime import (
    Actor,
    ActorContext,
    Settings,
    answer_ping,
    ensure_stream,
    reply_error,
    resolve_model,
)

from .adapters import Adapters
from .batched import BatchedCore, BatchLimits
from .config import InferenceConfig
from .engine_core import EngineCore
from .gate import ModelGate
from .kv_cache import supported
from .metrics import InferenceMetrics, Occupancy
from .model_runner import Job, ModelRunner
from .outputs import OutputQueue
from .requester_watch import RequesterWatch
from .sequential import SequentialCore

# how long a `svc.inference.follow` question waits for this worker to apply the revision it names: longer than
# the gateway waits (15 s), so the answer is never what stops it
FOLLOW_WAIT_S = 30.0


class InferenceActor(Actor):
    name: ClassVar[str] = subjects.INFERENCE_SERVICE
    description: ClassVar[str] = "Generates text with a Hugging Face causal LM and streams tokens over NATS"

    def __init__(self, settings: Settings, config: InferenceConfig | None = None) -> None:
        self.settings = settings
        self.config = config or InferenceConfig.from_env()
        self.engine: ModelRunner | None = None
        self._active: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._followers: set[asyncio.Task[None]] = set()  # `svc.inference.follow` questions waiting for a revision
        self._requesters: RequesterWatch | None = None
        self.scheduler: EngineCore | None = None
        self._ctx: ActorContext | None = None
        self._shutting_down = False
        self._gate = ModelGate()
        self._adapters: Adapters | None = None
        self._lent_to: str | None = None  # the fine-tuning job holding this host's GPU
        self.metrics = InferenceMetrics(CollectorRegistry(), self._occupancy)  # start() moves it to the actor's

    def metadata(self) -> dict[str, str]:
        return {"max_concurrency": str(self.config.max_concurrency), "engine": self.config.engine}

    async def start(self, ctx: ActorContext) -> None:
        self._ctx = ctx
        await ensure_stream(
            ctx.js,
            StreamConfig(
                name=subjects.TOKENS_STREAM,
                description="Every generation's token chunks, for replay",
                subjects=[subjects.TOKENS_WILDCARD],
                storage=StorageType.FILE,
                max_age=self.config.tokens_max_age_s,
                max_bytes=self.config.tokens_max_bytes,
                discard=DiscardPolicy.OLD,
                num_replicas=self.settings.nats_replicas,
            ),
            ctx.log,
        )
        source = await asyncio.to_thread(resolve_model, self.settings)
        torch.set_num_threads(self.config.threads)
        ctx.log.info("loading model", extra={"model": source.model_id, "from": source.location})
        self.engine = await asyncio.to_thread(
            ModelRunner,
            source,
            load_in_4bit=self.settings.load_in_4bit,
            hf_token=self.settings.hf_token,
            dtype=self.config.dtype,
        )
        self.scheduler = self._make_scheduler(self.engine)
        self.metrics = InferenceMetrics(ctx.metrics.registry, self._occupancy)
        ctx.log.info(
            "model ready",
            extra={
                "model": source.model_id,
                "device": self.engine.device,
                "dtype": self.engine.dtype,
                "engine": self.scheduler.name,
                "threads": torch.get_num_threads(),
            },
        )
        self._adapters = Adapters(
            ctx.js,
            self.engine,
            self._between_steps,
            self.settings.adapter_dir,
            self.config.max_loaded_adapters,
            ctx.log,
            on_load=lambda outcome: self.metrics.adapter_loads.labels(outcome).inc(),
        )
        if self.config.warm_up:
            await self._warm_up()
        self._adapters.start_watching()
        await ctx.nc.subscribe(subjects.CANCEL_WILDCARD, cb=self._on_cancel)
        self._requesters = RequesterWatch(ctx.nc, lambda: list(self._active.values()), self._cancel, ctx.log)
        self._requesters.start()
        await ctx.nc.subscribe(subjects.ping_subject(self.settings.worker_id), cb=self._on_ping)
        # not a queue group: every worker on the job's host hears it, the others ignore it
        await ctx.nc.subscribe(subjects.INFERENCE_GPU_RELEASE, cb=self._on_gpu_release)
        await ctx.nc.subscribe(subjects.INFERENCE_GPU_RECLAIM, cb=self._on_gpu_reclaim)
        await ctx.nc.subscribe(subjects.INFERENCE_FOLLOW, cb=self._on_follow)  # every worker answers
        await ctx.service.add_endpoint(
            name="generate",
            subject=subjects.INFERENCE_GENERATE,
            queue_group=subjects.INFERENCE_QUEUE,
            handler=self._on_generate,
        )
        await ctx.service.add_endpoint(
            name="info",
            subject=subjects.INFERENCE_INFO,
            queue_group=subjects.INFERENCE_QUEUE,
            handler=self._on_info,
        )

    def _make_scheduler(self, engine: ModelRunner) -> EngineCore:
        """The engine INFERENCE_ENGINE asks for; the sequential one where this model's KV cache cannot be
        batched here (sliding-window or other special cache layers), with a warning."""
        if self.config.engine == "sequential":
            return SequentialCore(engine)
        if not supported(DynamicCache(config=engine.base_model.config)):
            self._log().warning("this model's KV cache cannot be batched here; answering one request at a time")
            return SequentialCore(engine)
        limits = BatchLimits(
            max_rows=self.config.max_concurrency,
            prefill_chunk_tokens=self.config.prefill_chunk_tokens,
            kv_cache_bytes=self.config.kv_cache_mb * 2**20,
        )
        return BatchedCore(engine, limits)

    async def _between_steps(self, change: Callable[[], Any]) -> Any:
        assert self.scheduler is not None
        return await asyncio.wrap_future(self.scheduler.between_steps(change))

    async def _warm_up(self) -> None:
        """Answer two short requests at once before serving, so the first real answers do not pay for the
        kernels' first use (seconds on a cold CPU, measured in issue 9: 9.8 s for the first 8 tokens)."""
        assert self.engine is not None and self.scheduler is not None
        began = time.perf_counter()
        jobs = [
            self.engine.prepare(
                GenerateRequest(request_id=f"warm-up-{i}", prompt=prompt, params=GenerationParams(max_new_tokens=4))
            )
            for i, prompt in enumerate(["Hello", "What is the capital of France?"])
        ]
        relays = [OutputQueue() for _ in jobs]
        for job, relay in zip(jobs, relays, strict=True):
            self.scheduler.submit(job, relay)
        for relay in relays:
            async for _ in relay.pieces():
                pass
        self._log().info("warmed up", extra={"seconds": round(time.perf_counter() - began, 2)})

    async def stop(self) -> None:
        self._shutting_down = True
        if self._requesters is not None:
            await self._requesters.stop()
        for job in self._active.values():
            job.cancel.set()
        if self.scheduler is not None:
            self.scheduler.wake()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
        for follower in list(self._followers):
            follower.cancel()
        if self._adapters is not None:
            await self._adapters.stop()
        if self.scheduler is not None:
            await asyncio.to_thread(self.scheduler.stop)

    # -- endpoints ---------------------------------------------------------------------------

    async def _on_generate(self, req: Request) -> None:
        try:
            job = await self._admit(decode(req.data, GenerateRequest))
        except SwitchboardError as exc:
            self.metrics.refusals.labels(exc.code.value).inc()
            await reply_error(req, exc.to_message())
            return
        except Exception as exc:  # never let a bad request take the worker down
            self.metrics.refusals.labels(ErrorCode.INTERNAL.value).inc()
            self._log().exception("generate rejected")
            await reply_error(req, ErrorMessage(ErrorCode.INTERNAL, f"internal error: {exc}"))
            return
        await req.respond(
            encode(
                Accept(
                    request_id=job.request_id,
                    worker_id=self.settings.worker_id,
                    prompt_tokens=job.prompt_tokens,
                    max_new_tokens=job.max_new_tokens,
                )
            )
        )
        task = asyncio.create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _admit(self, request: GenerateRequest) -> Job:
        assert self.engine is not None and self._adapters is not None
        if request.adapter is not None and request.base_model:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "give either an adapter or the base model, not both")
        job = self.engine.prepare(request)
        job.adapter = None if request.base_model else request.adapter or self._adapters.active
        job.requester_ping = request.requester_ping
        if job.adapter is not None:  # exists, fits this base model; the version this request will use
            try:
                job.adapter_revision = await self._adapters.resolve(job.adapter)
            except SwitchboardError as exc:
                if request.adapter is not None or exc.code is not ErrorCode.ADAPTER_MISSING:
                    raise
                job.adapter = None  # the default adapter was just deleted: the registry falls back to base too
        if self._shutting_down:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "this inference worker is shutting down")
        if self._lent_to is not None:
            raise SwitchboardError(
                ErrorCode.UNAVAILABLE,
                f"the GPU is lent to fine-tuning job {self._lent_to}; answers resume when the job ends",
            )
        if request.request_id in self._active:
            raise SwitchboardError(
                ErrorCode.CONFLICT,
                f"names a generation that is running already ({request.request_id})",
                "request_id",
            )
        if len(self._active) >= self.config.max_concurrency:
            raise SwitchboardError(
                ErrorCode.BUSY,
                f"the inference worker is busy ({self.config.max_concurrency} generation(s) running); "
                "try again in a moment",
            )
        assert self.scheduler is not None
        self.scheduler.check_room(job, list(self._active.values()))
        self._active[job.request_id] = job
        return job

    def _occupancy(self) -> Occupancy:
        if self.scheduler is None:
            return Occupancy(0, 0, self.config.max_concurrency, 0)
        now = self.scheduler.occupancy()
        return Occupancy(now.decoding, now.waiting, self.config.max_concurrency, now.kv_cache_bytes)

    async def _on_info(self, req: Request) -> None:
        await req.respond(encode(self._model_info()))

    def _model_info(self) -> ModelInfo:
        assert self.engine is not None
        assert self.scheduler is not None
        occupancy = self.scheduler.occupancy()
        return ModelInfo(
            model_id=self.engine.source.model_id,
            device=self.engine.device,
            dtype=self.engine.dtype,
            load_in_4bit=self.engine.load_in_4bit,
            context_length=self.engine.context_length,
            state="ready" if self._lent_to is None else "released",
            worker_id=self.settings.worker_id,
            active_adapter=self._adapters.active if self._adapters else None,
            active_revision=self._adapters.active_revision if self._adapters else 0,
            loaded_adapters=self._adapters.loaded if self._adapters else [],
            max_concurrency=self.config.max_concurrency,
            active_generations=len(self._active),
            engine=self.scheduler.name,
            batch_size=occupancy.decoding,
            waiting=occupancy.waiting,
            kv_cache_mb=round(occupancy.kv_cache_bytes / 2**20, 2),
            kv_cache_limit_mb=float(self.config.kv_cache_mb) if self.scheduler.name == "batched" else None,
            threads=torch.get_num_threads(),
            **self.engine.memory(),
        )

    async def _on_follow(self, msg: Msg) -> None:
        """`svc.inference.follow`: answer with this worker's `ModelInfo` now and, while it has not applied the
        revision of key `active` asked about, again once it has (within `FOLLOW_WAIT_S`). A malformed question
        or one without a reply subject is ignored."""
        assert self._adapters is not None
        try:
            question = decode(msg.data or b"{}", FollowActive)
        except SwitchboardError:
            return
        if not msg.reply:
            return
        with contextlib.suppress(Exception):  # the asker went away meanwhile
            await msg.respond(encode(self._model_info()))
        if self._adapters.active_revision < question.revision:
            task = asyncio.create_task(self._answer_once_followed(msg, question.revision))
            self._followers.add(task)
            task.add_done_callback(self._followers.discard)

    async def _answer_once_followed(self, msg: Msg, revision: int) -> None:
        assert self._adapters is not None
        if await self._adapters.followed(revision, FOLLOW_WAIT_S):
            with contextlib.suppress(Exception):
                await msg.respond(encode(self._model_info()))

    async def _on_gpu_release(self, msg: Msg) -> None:
        await self._gpu_handoff(msg, release=True)

    async def _on_gpu_reclaim(self, msg: Msg) -> None:
        await self._gpu_handoff(msg, release=False)

    async def _gpu_handoff(self, msg: Msg, *, release: bool) -> None:
        """Lend the GPU to a fine-tuning job on this host, or take it back. On CPU nothing moves."""
        assert self.engine is not None and self._adapters is not None
        try:
            handoff = decode(msg.data, GpuHandoff)
        except SwitchboardError:
            return
        if handoff.host != socket.gethostname():
            return
        if self.engine.device == "cuda":
            if release and self._lent_to is None:
                self._lent_to = handoff.job_id  # new requests are refused from here on
                async with self._gate.write():  # running generations finish first
                    await self._between_steps(self.engine.release)
                    self._adapters.forget_loaded()
                self._log().info("gpu lent", extra={"job_id": handoff.job_id})
            elif not release and self._lent_to is not None:
                async with self._gate.write():
                    await self._between_steps(self.engine.reclaim)
                self._lent_to = None
                active = self._adapters.active
                if active is not None:
                    with contextlib.suppress(SwitchboardError):
                        await self._adapters.apply(active)
                self._log().info("gpu reclaimed", extra={"job_id": handoff.job_id})
        if msg.reply:
            await msg.respond(encode(self._model_info()))

    async def _on_ping(self, msg: Msg) -> None:
        """A liveness probe: answer whether this worker holds the request named in the body."""
        await answer_ping(msg, self._active)

    async def _on_cancel(self, msg: object) -> None:
        subject = str(getattr(msg, "subject", ""))
        job = self._active.get(subjects.request_id_of(subject))
        if job is not None:
            self._cancel(job, "asked")

    def _cancel(self, job: Job, why: str) -> None:
        """Stop `job` at its next decode step (it ends with finish_reason `cancelled`)."""
        if job.cancel.is_set():
            return
        job.cancel.set()
        if self.scheduler is not None:
            self.scheduler.wake()
        self._log().info("cancel", extra={"request_id": job.request_id, "why": why})

    # -- one generation ----------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        """Apply the job's adapter version, run it on the engine, publish every chunk and the final one."""
        assert self._adapters is not None
        adapters = self._adapters
        try:
            try:
                if job.adapter is not None:
                    job.adapter_key = await adapters.acquire(job.adapter, job.adapter_revision)
                async with self._gate.read():
                    final = await self._generate(job)
            except Exception as exc:  # the client always hears how its request ended, never silence
                if not isinstance(exc, SwitchboardError):
                    self._log().exception("generation failed", extra={"request_id": job.request_id})
                    exc = SwitchboardError(ErrorCode.INTERNAL, f"the inference worker failed: {type(exc).__name__}")
                final = TokenChunk(
                    request_id=job.request_id,
                    seq=job.chunks_published,  # after any text already sent, so the client sees this error
                    done=True,
                    finish_reason=FinishReason.ERROR,
                    error=exc.to_message(),
                )
                await self._publish(final)
            self.metrics.requests.labels((final.finish_reason or FinishReason.ERROR).value).inc()
            if final.usage is not None:
                self.metrics.prompt_tokens.inc(final.usage.prompt_tokens)
                self.metrics.generated_tokens.inc(final.usage.completion_tokens)
            self._log().info(
                "generation done",
                extra={
                    "request_id": job.request_id,
                    "adapter": job.adapter or "-",
                    "finish": final.finish_reason,
                    "tokens": final.usage.completion_tokens if final.usage else 0,
                },
            )
        finally:
            self._active.pop(job.request_id, None)
            if job.adapter_key is not None:
                await adapters.release(job.adapter_key)

    async def _publish(self, chunk: TokenChunk) -> None:
        assert self._ctx is not None
        await self._ctx.nc.publish(subjects.tokens_subject(chunk.request_id), encode(chunk))
        if chunk.done:
            await self._ctx.nc.flush()

    async def _generate(self, job: Job) -> TokenChunk:
        """Run the job on the engine, relaying its text as chunks; returns the final chunk (published)."""
        assert self.scheduler is not None
        relay = OutputQueue()
        self.scheduler.submit(job, relay)
        last = job.admitted
        async for piece in relay.pieces():
            await self._publish(TokenChunk(request_id=job.request_id, seq=job.chunks_published, token=piece))
            now = time.perf_counter()
            first = job.chunks_published == 0
            (self.metrics.time_to_first_token if first else self.metrics.time_per_output_token).observe(now - last)
            last = now
            job.chunks_published += 1
        if relay.outcome is not None:
            reason = relay.outcome.finish_reason
            error = None
            if reason is FinishReason.CANCELLED and self._shutting_down:
                reason = FinishReason.ERROR
                error = ErrorMessage(ErrorCode.UNAVAILABLE, "the inference worker shut down mid-answer")
            final = TokenChunk(
                request_id=job.request_id,
                seq=job.chunks_published,
                done=True,
                finish_reason=reason,
                usage=Usage(job.prompt_tokens, relay.outcome.completion_tokens),
                error=error,
            )
        else:
            self._log().error("generation failed", extra={"request_id": job.request_id, "error": repr(relay.error)})
            final = TokenChunk(
                request_id=job.request_id,
                seq=job.chunks_published,
                done=True,
                finish_reason=FinishReason.ERROR,
                error=ErrorMessage(ErrorCode.INTERNAL, f"generation failed: {relay.error}"),
            )
        await self._publish(final)
        return final

    def _log(self) -> logging.Logger:
        assert self._ctx is not None
        return self._ctx.log
