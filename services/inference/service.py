"""The inference actor: `svc.inference.generate` and `.info`, token chunks on `infer.tokens.<id>`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ClassVar

from nats.aio.msg import Msg
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.micro.request import Request

from messages import (
    Accept,
    ErrorCode,
    ErrorMessage,
    FinishReason,
    GenerateRequest,
    GpuHandoff,
    ModelInfo,
    SwitchboardError,
    TokenChunk,
    Usage,
    decode,
    encode,
    subjects,
)
from services.runtime import Actor, ActorContext, Settings, ensure_stream, reply_error, resolve_model

from .adapters import Adapters
from .config import InferenceConfig
from .engine import Engine, Outcome, Prepared
from .gate import ModelGate


@dataclass
class _Done:
    outcome: Outcome


@dataclass
class _Failed:
    error: BaseException


class InferenceActor(Actor):
    name: ClassVar[str] = subjects.INFERENCE_SERVICE
    description: ClassVar[str] = "Generates text with a Hugging Face causal LM and streams tokens over NATS"

    def __init__(self, settings: Settings, config: InferenceConfig | None = None) -> None:
        self.settings = settings
        self.config = config or InferenceConfig.from_env()
        self.engine: Engine | None = None
        self._active: dict[str, Prepared] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(self.config.max_concurrency, thread_name_prefix="generate")
        self._ctx: ActorContext | None = None
        self._shutting_down = False
        self._gate = ModelGate()
        self._adapters: Adapters | None = None
        self._lent_to: str | None = None  # the fine-tuning job holding this host's GPU

    def metadata(self) -> dict[str, str]:
        return {"max_concurrency": str(self.config.max_concurrency)}

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
            ),
        )
        source = await asyncio.to_thread(resolve_model, self.settings)
        ctx.log.info("loading model", extra={"model": source.model_id, "from": source.location})
        self.engine = await asyncio.to_thread(
            Engine, source, load_in_4bit=self.settings.load_in_4bit, hf_token=self.settings.hf_token
        )
        ctx.log.info(
            "model ready",
            extra={"model": source.model_id, "device": self.engine.device, "dtype": self.engine.dtype},
        )
        self._adapters = Adapters(
            ctx.js, self.engine, self._gate, self.settings.adapter_dir, self.config.max_loaded_adapters, ctx.log
        )
        self._adapters.start_watching()
        await ctx.nc.subscribe(subjects.CANCEL_WILDCARD, cb=self._on_cancel)
        # not a queue group: every worker on the job's host hears it, the others ignore it
        await ctx.nc.subscribe(subjects.INFERENCE_GPU_RELEASE, cb=self._on_gpu_release)
        await ctx.nc.subscribe(subjects.INFERENCE_GPU_RECLAIM, cb=self._on_gpu_reclaim)
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

    async def stop(self) -> None:
        self._shutting_down = True
        for job in self._active.values():
            job.cancel.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
        if self._adapters is not None:
            await self._adapters.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- endpoints ---------------------------------------------------------------------------

    async def _on_generate(self, req: Request) -> None:
        try:
            job = await self._admit(decode(req.data, GenerateRequest))
        except SwitchboardError as exc:
            await reply_error(req, exc.to_message())
            return
        except Exception as exc:  # never let a bad request take the worker down
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

    async def _admit(self, request: GenerateRequest) -> Prepared:
        assert self.engine is not None and self._adapters is not None
        if request.adapter is not None and request.base_model:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "give either an adapter or the base model, not both")
        if request.adapter is not None:
            await self._adapters.meta(request.adapter)  # exists, and fits this base model
        job = self.engine.prepare(request)
        job.adapter = None if request.base_model else request.adapter or self._adapters.active
        if self._shutting_down:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "this inference worker is shutting down")
        if self._lent_to is not None:
            raise SwitchboardError(
                ErrorCode.UNAVAILABLE,
                f"the GPU is lent to fine-tuning job {self._lent_to}; answers resume when the job ends",
            )
        if request.request_id in self._active:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"request_id {request.request_id} is already running")
        if len(self._active) >= self.config.max_concurrency:
            raise SwitchboardError(
                ErrorCode.BUSY,
                f"the inference worker is busy ({self.config.max_concurrency} generation(s) running); "
                "try again in a moment",
            )
        self._active[job.request_id] = job
        return job

    async def _on_info(self, req: Request) -> None:
        await req.respond(encode(self._model_info()))

    def _model_info(self) -> ModelInfo:
        assert self.engine is not None
        return ModelInfo(
            model_id=self.engine.source.model_id,
            device=self.engine.device,
            dtype=self.engine.dtype,
            load_in_4bit=self.engine.load_in_4bit,
            context_length=self.engine.context_length,
            state="ready" if self._lent_to is None else "released",
            worker_id=self.settings.worker_id,
            active_adapter=self._adapters.active if self._adapters else None,
            loaded_adapters=self._adapters.loaded if self._adapters else [],
            max_concurrency=self.config.max_concurrency,
            active_generations=len(self._active),
            **self.engine.memory(),
        )

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
                    await asyncio.to_thread(self.engine.release)
                    self._adapters.forget_loaded()
                self._log().info("gpu lent", extra={"job_id": handoff.job_id})
            elif not release and self._lent_to is not None:
                async with self._gate.write():
                    await asyncio.to_thread(self.engine.reclaim)
                self._lent_to = None
                if self._adapters.active is not None:
                    with contextlib.suppress(SwitchboardError):
                        await self._adapters.ensure_loaded(self._adapters.active)
                self._log().info("gpu reclaimed", extra={"job_id": handoff.job_id})
        if msg.reply:
            await msg.respond(encode(self._model_info()))

    async def _on_cancel(self, msg: object) -> None:
        subject = str(getattr(msg, "subject", ""))
        job = self._active.get(subjects.request_id_of(subject))
        if job is not None:
            job.cancel.set()
            self._log().info("cancel", extra={"request_id": job.request_id})

    # -- one generation ----------------------------------------------------------------------

    async def _run(self, job: Prepared) -> None:
        """Apply the job's adapter if needed, generate under the model gate, publish every chunk."""
        assert self._adapters is not None
        adapters = self._adapters
        adapters.acquire(job.adapter)
        try:
            try:
                if job.adapter is not None:
                    await adapters.ensure_loaded(job.adapter)
                async with self._gate.read():
                    final = await self._generate(job)
            except SwitchboardError as exc:
                final = TokenChunk(
                    request_id=job.request_id,
                    seq=0,
                    done=True,
                    finish_reason=FinishReason.ERROR,
                    error=exc.to_message(),
                )
                await self._publish(final)
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
            adapters.release(job.adapter)
            self._active.pop(job.request_id, None)

    async def _publish(self, chunk: TokenChunk) -> None:
        assert self._ctx is not None
        await self._ctx.nc.publish(subjects.tokens_subject(chunk.request_id), encode(chunk))
        if chunk.done:
            await self._ctx.nc.flush()

    async def _generate(self, job: Prepared) -> TokenChunk:
        """Run the generation in a worker thread, relaying its text as chunks; returns the final chunk."""
        assert self.engine is not None
        engine = self.engine
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | _Done | _Failed] = asyncio.Queue()

        def emit(text: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, text)

        def work() -> None:
            try:
                outcome = engine.generate(job, emit)
            except BaseException as exc:
                loop.call_soon_threadsafe(queue.put_nowait, _Failed(exc))
            else:
                loop.call_soon_threadsafe(queue.put_nowait, _Done(outcome))

        loop.run_in_executor(self._executor, work)
        seq = 0
        while isinstance(item := await queue.get(), str):
            await self._publish(TokenChunk(request_id=job.request_id, seq=seq, token=item))
            seq += 1
        if isinstance(item, _Done):
            reason = item.outcome.finish_reason
            error = None
            if reason is FinishReason.CANCELLED and self._shutting_down:
                reason = FinishReason.ERROR
                error = ErrorMessage(ErrorCode.UNAVAILABLE, "the inference worker shut down mid-answer")
            final = TokenChunk(
                request_id=job.request_id,
                seq=seq,
                done=True,
                finish_reason=reason,
                usage=Usage(job.prompt_tokens, item.outcome.completion_tokens),
                error=error,
            )
        else:
            self._log().error("generation failed", extra={"request_id": job.request_id, "error": repr(item.error)})
            final = TokenChunk(
                request_id=job.request_id,
                seq=seq,
                done=True,
                finish_reason=FinishReason.ERROR,
                error=ErrorMessage(ErrorCode.INTERNAL, f"generation failed: {item.error}"),
            )
        await self._publish(final)
        return final

    def _log(self) -> logging.Logger:
        assert self._ctx is not None
        return self._ctx.log
