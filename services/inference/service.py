"""The inference actor's wiring: `start` loads the model, builds the worker's parts (the engine core on the
model runner, adapters, intake, publisher, GPU lending, the requester watch) and subscribes them to
`svc.inference.generate`, `.info`, `.follow`, `.gpu.*`, `infer.cancel.*` and `infer.ping.<worker_id>`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from nats.aio.msg import Msg
from nats.micro.request import Request
from transformers import DynamicCache

from messages import (
    FollowActive,
    GenerateRequest,
    GenerationParams,
    ModelInfo,
    SwitchboardError,
    decode,
    encode,
    subjects,
)
from services.runtime import Actor, ActorContext, Settings, answer_ping, ensure_stream, resolve_model

from .adapters import Adapters
from .batched import BatchedCore, BatchLimits
from .config import InferenceConfig
from .engine_core import EngineCore
from .gpu_lending import GpuLending
from .intake import Generation, Intake
from .kv_cache import supported
from .metrics import InferenceMetrics, Occupancy
from .model_runner import ModelRunner
from .outputs import OutputQueue
from .publisher import Publisher, tokens_stream
from .requester_watch import RequesterWatch
from .sequential import SequentialCore
from .state import NotStarted, Started

# how long a `svc.inference.follow` question waits for this worker to apply the revision it names: longer than
# the gateway waits (15 s), so the answer is never what stops it
FOLLOW_WAIT_S = 30.0


class InferenceActor(Actor):
    name: ClassVar[str] = subjects.INFERENCE_SERVICE
    description: ClassVar[str] = "Generates text with a Hugging Face causal LM and streams tokens over NATS"

    def __init__(self, settings: Settings, config: InferenceConfig | None = None) -> None:
        self.settings = settings
        self.config = config or InferenceConfig.from_env()
        self._started: Started | NotStarted = NotStarted()
        self._tasks: set[asyncio.Task[None]] = set()  # generations being run and published
        self._followers: set[asyncio.Task[None]] = set()  # `svc.inference.follow` questions waiting for a revision

    def metadata(self) -> dict[str, str]:
        return {"max_concurrency": str(self.config.max_concurrency), "engine": self.config.engine}

    async def start(self, ctx: ActorContext) -> None:
        config, log, nc = self.config, ctx.log, ctx.nc
        await ensure_stream(ctx.js, tokens_stream(config, self.settings.nats_replicas), log)
        source = await asyncio.to_thread(resolve_model, self.settings)
        torch.set_num_threads(config.threads)
        log.info("loading model", extra={"model": source.model_id, "from": source.location})
        runner = await asyncio.to_thread(
            ModelRunner,
            source,
            load_in_4bit=self.settings.load_in_4bit,
            hf_token=self.settings.hf_token,
            dtype=config.dtype,
        )
        core = self._make_core(runner, log)
        metrics = InferenceMetrics(ctx.metrics.registry, lambda: self._occupancy(core))
        log.info(
            "model ready",
            extra={
                "model": source.model_id,
                "device": runner.device,
                "dtype": runner.dtype,
                "engine": core.name,
                "threads": torch.get_num_threads(),
            },
        )

        async def between_steps(change: Callable[[], Any]) -> Any:
            return await asyncio.wrap_future(core.between_steps(change))

        adapters = Adapters(
            ctx.js,
            runner,
            between_steps,
            self.settings.adapter_dir,
            config.max_loaded_adapters,
            log,
            on_load=lambda outcome: metrics.adapter_loads.labels(outcome).inc(),
        )
        lending = GpuLending(runner, adapters, between_steps, log)
        intake = Intake(
            runner,
            core,
            adapters,
            lending,
            max_concurrency=config.max_concurrency,
            max_choices=config.max_choices,
            max_constraint_chars=config.max_constraint_chars,
            max_schema_depth=config.max_schema_depth,
            worker_id=self.settings.worker_id,
            metrics=metrics,
            log=log,
        )
        publisher = Publisher(nc, core, adapters, lending.gate, intake, metrics, log)
        requesters = RequesterWatch(nc, lambda: list(intake.active.values()), self._cancel, log)
        self._started = Started(ctx, runner, core, metrics, adapters, lending, intake, publisher, requesters)
        if config.warm_up:
            await self._warm_up(runner, core, log)
        adapters.start_watching()
        await nc.subscribe(subjects.CANCEL_WILDCARD, cb=self._on_cancel)
        requesters.start()
        await nc.subscribe(subjects.ping_subject(self.settings.worker_id), cb=self._on_ping)
        # not a queue group: every worker on the job's host hears it, the others ignore it
        await nc.subscribe(subjects.INFERENCE_GPU_RELEASE, cb=self._on_gpu_release)
        await nc.subscribe(subjects.INFERENCE_GPU_RECLAIM, cb=self._on_gpu_reclaim)
        await nc.subscribe(subjects.INFERENCE_FOLLOW, cb=self._on_follow)  # every worker answers
        for name, subject, handler in (
            ("generate", subjects.INFERENCE_GENERATE, self._on_generate),
            ("info", subjects.INFERENCE_INFO, self._on_info),
        ):
            await ctx.service.add_endpoint(
                name=name, subject=subject, queue_group=subjects.INFERENCE_QUEUE, handler=handler
            )

    def _make_core(self, runner: ModelRunner, log: logging.Logger) -> EngineCore:
        """The engine core INFERENCE_ENGINE asks for; the sequential one where this model's KV cache cannot be
        batched here (sliding-window or other special cache layers), with a warning."""
        if self.config.engine == "sequential":
            return SequentialCore(runner)
        if not supported(DynamicCache(config=runner.base_model.config)):
            log.warning("this model's KV cache cannot be batched here; answering one request at a time")
            return SequentialCore(runner)
        limits = BatchLimits(
            max_rows=self.config.max_concurrency,
            prefill_chunk_tokens=self.config.prefill_chunk_tokens,
            kv_cache_bytes=self.config.kv_cache_mb * 2**20,
        )
        return BatchedCore(runner, limits)

    @staticmethod
    async def _warm_up(runner: ModelRunner, core: EngineCore, log: logging.Logger) -> None:
        """Answer two short requests at once before serving, so the first real answers do not pay for the
        kernels' first use (seconds on a cold CPU, measured in issue 9: 9.8 s for the first 8 tokens)."""
        began = time.perf_counter()
        jobs = [
            runner.prepare(
                GenerateRequest(request_id=f"warm-up-{i}", prompt=prompt, params=GenerationParams(max_new_tokens=4))
            )
            for i, prompt in enumerate(["Hello", "What is the capital of France?"])
        ]
        outputs = [OutputQueue() for _ in jobs]
        for job, output in zip(jobs, outputs, strict=True):
            core.submit(job, output)
        for output in outputs:
            async for _ in output.pieces():
                pass
        log.info("warmed up", extra={"seconds": round(time.perf_counter() - began, 2)})

    async def stop(self) -> None:
        started = self._started
        if isinstance(started, NotStarted):
            return
        started.intake.shutting_down = True
        await started.requesters.stop()
        for generation in started.intake.active.values():
            generation.job.cancel.set()
        started.core.wake()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
        for follower in list(self._followers):
            follower.cancel()
        await started.adapters.stop()
        await asyncio.to_thread(started.core.stop)

    # -- endpoints ---------------------------------------------------------------------------

    async def _on_generate(self, req: Request) -> None:
        # each request is admitted in a task of its own: nats-py runs an endpoint's handler one message at a
        # time, and a schema's first compile (milliseconds, up to seconds for a deep one) must not hold the
        # requests behind it (issue 24's tryout: every client timed out behind one deep schema)
        task = asyncio.create_task(self._admit_and_run(req))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _admit_and_run(self, req: Request) -> None:
        started = self._started
        generation = await started.intake.on_generate(req)
        if generation is not None:
            await started.publisher.run(generation)

    def _occupancy(self, core: EngineCore) -> Occupancy:
        now = core.occupancy()
        return Occupancy(now.decoding, now.waiting, self.config.max_concurrency, now.kv_cache_bytes)

    async def _on_info(self, req: Request) -> None:
        await req.respond(encode(self._model_info()))

    def _model_info(self) -> ModelInfo:
        return self._started.model_info(self.config, self.settings.worker_id)

    async def _on_follow(self, msg: Msg) -> None:
        """`svc.inference.follow`: answer with this worker's `ModelInfo` now and, while it has not applied the
        revision of key `active` asked about, again once it has (within `FOLLOW_WAIT_S`). A malformed question
        or one without a reply subject is ignored."""
        try:
            question = decode(msg.data or b"{}", FollowActive)
        except SwitchboardError:
            return
        if not msg.reply:
            return
        with contextlib.suppress(Exception):  # the asker went away meanwhile
            await msg.respond(encode(self._model_info()))
        if self._started.adapters.active_revision < question.revision:
            task = asyncio.create_task(self._answer_once_followed(msg, question.revision))
            self._followers.add(task)
            task.add_done_callback(self._followers.discard)

    async def _answer_once_followed(self, msg: Msg, revision: int) -> None:
        if await self._started.adapters.followed(revision, FOLLOW_WAIT_S):
            with contextlib.suppress(Exception):
                await msg.respond(encode(self._model_info()))

    async def _on_gpu_release(self, msg: Msg) -> None:
        await self._gpu_handoff(msg, release=True)

    async def _on_gpu_reclaim(self, msg: Msg) -> None:
        await self._gpu_handoff(msg, release=False)

    async def _gpu_handoff(self, msg: Msg, *, release: bool) -> None:
        """Lend the GPU to a fine-tuning job on this host, or take it back; answer with `ModelInfo`."""
        if await self._started.lending.hand_off(msg, release=release) and msg.reply:
            await msg.respond(encode(self._model_info()))

    async def _on_ping(self, msg: Msg) -> None:
        """A liveness probe: answer whether this worker holds the request named in the body."""
        await answer_ping(msg, self._started.intake.active)

    async def _on_cancel(self, msg: object) -> None:
        subject = str(getattr(msg, "subject", ""))
        generation = self._started.intake.active.get(subjects.request_id_of(subject))
        if generation is not None:
            self._cancel(generation, "asked")

    def _cancel(self, generation: Generation, why: str) -> None:
        """Stop the generation at its next decode step (it ends with finish_reason `cancelled`)."""
        started = self._started
        if generation.job.cancel.is_set():
            return
        generation.job.cancel.set()
        started.core.wake()
        started.ctx.log.info("cancel", extra={"request_id": generation.request_id, "why": why})
