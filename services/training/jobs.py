"""One job on this worker, from its message being fetched to its ack: state changes in KV `training`,
progress on `train.progress.<job_id>`, heartbeats to JetStream, the GPU handoff, the adapter's upload."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from messages import (
    AdapterMeta,
    FineTuneSpec,
    GpuHandoff,
    JobRecord,
    JobState,
    SwitchboardError,
    TrainingStage,
    utc_timestamp,
)
from services.runtime import Settings, resolve_model

from .config import TrainingConfig
from .gpu import reclaim_gpu, release_gpu, this_host
from .progress import publish_progress
from .publish import publish_adapter
from .records import JobStore, now_iso
from .sources import resolve_dataset
from .threads import in_daemon_thread
from .trainer import Cancelled, Plan, Result, pick_device, train
from .validate import check_name_free

CANCELLED_BY_USER = "cancelled by user"
STOPPED = "the training service was stopped during this job; submit it again"
IN_PROGRESS_EVERY_S = 1.0  # at most this often per step; the heartbeat covers slow steps and loading


@dataclass(frozen=True)
class _Total:
    steps: int
    examples: int


@dataclass(frozen=True)
class _Stage:
    stage: TrainingStage


@dataclass(frozen=True)
class _Step:
    step: int
    loss: float


@dataclass(frozen=True)
class _Trained:
    model_id: str
    result: Result


class JobRun:
    """Runs one fetched job. `request_cancel` may be called at any time; the job then ends within a step."""

    def __init__(
        self,
        msg: Msg,
        spec: FineTuneSpec,
        *,
        nc: Client,
        js: JetStreamContext,
        store: JobStore,
        settings: Settings,
        config: TrainingConfig,
        log: logging.Logger,
        on_started: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.msg = msg
        self.on_started = on_started  # e.g. move the jobs behind it up the queue
        self.spec = spec
        self.nc = nc
        self.js = js
        self.store = store
        self.settings = settings
        self.config = config
        self.log = log
        self.cancel = threading.Event()
        self.cancel_state = JobState.CANCELLED
        self.cancel_reason = CANCELLED_BY_USER
        self.record: JobRecord | None = None  # what this run last wrote
        self._step = 0
        self._total: int | None = None
        self._stage: TrainingStage | None = None
        self._losses: list[float] = []
        self._events: asyncio.Queue[_Total | _Stage | _Step | None] = asyncio.Queue()  # None: no more
        self._write_lock = asyncio.Lock()
        self._last_write = 0.0
        self._last_in_progress = 0.0
        self._lost = False  # someone else changed the record (declared this worker dead)

    @property
    def job_id(self) -> str:
        return self.spec.job_id

    def request_cancel(self, reason: str = CANCELLED_BY_USER, state: JobState = JobState.CANCELLED) -> None:
        """Stop the job at the next micro-batch; the first reason given is the one recorded."""
        if not self.cancel.is_set():
            self.cancel_reason = reason
            self.cancel_state = state
            self.cancel.set()

    # -- the whole job -----------------------------------------------------------------------

    async def run(self) -> None:
        """Start, train, publish the adapter, record the outcome, ack. Never raises but CancelledError."""
        try:
            device = pick_device(self.config.device)
        except SwitchboardError as exc:
            device = "cpu"
            startup_error: SwitchboardError | None = exc
        else:
            startup_error = None
        started = await self.store.change(self.job_id, lambda r: self._to_running(r, device))
        if started is None or started.state is not JobState.RUNNING or started.worker_id != self.settings.worker_id:
            self.log.info("job skipped: no longer queued", extra={"job_id": self.job_id})
            await self._ack()
            return
        self.record = started
        self.log.info("job started", extra={"job_id": self.job_id, "adapter": self.spec.adapter_name, "device": device})
        await publish_progress(self.nc, started)
        if self.on_started is not None:
            try:
                await self.on_started()
            except Exception as exc:
                self.log.warning("after-start hook failed", extra={"job_id": self.job_id, "error": repr(exc)})
        pump = asyncio.create_task(self._pump())
        beat = asyncio.create_task(self._heartbeat())
        handoff = GpuHandoff(host=this_host(), job_id=self.job_id)
        state, adapter = JobState.FAILED, None
        error: str | None = "the job ended without an outcome"
        out_dir = Path(tempfile.mkdtemp(prefix=f"switchboard-train-{self.job_id}-"))
        stopping: asyncio.CancelledError | None = None
        try:
            if startup_error is not None:
                raise startup_error
            if device == "cuda":
                await release_gpu(self.nc, handoff, self.config.gpu_timeout_s, self.log)
            trained = await self._train(device, out_dir)
            await self._end_pump(pump)  # every step's progress is out before the adapter is
            adapter = await self._publish(trained, out_dir)
            state, error = JobState.SUCCEEDED, None
        except Cancelled:  # the partial adapter is discarded, and the record says so
            state, error = self.cancel_state, self.cancel_reason
            if state is JobState.CANCELLED:
                error += "; the partial adapter was discarded"
        except SwitchboardError as exc:
            state, error = JobState.FAILED, str(exc)
        except asyncio.CancelledError as exc:  # the service is stopping and could not wait any longer
            state, error, stopping = JobState.FAILED, STOPPED, exc
        except Exception as exc:
            self.log.exception("job crashed", extra={"job_id": self.job_id})
            state, error = JobState.FAILED, f"training failed: {type(exc).__name__}: {exc}"
        finally:
            beat.cancel()
            await self._end_pump(pump)
            await asyncio.gather(beat, return_exceptions=True)
            shutil.rmtree(out_dir, ignore_errors=True)
            if device == "cuda":
                await reclaim_gpu(self.nc, handoff, self.config.gpu_timeout_s, self.log)
            await self._finish(state, error, adapter)
            await self._ack()
        if stopping is not None:
            raise stopping

    # -- steps -------------------------------------------------------------------------------

    async def _train(self, device: str, out_dir: Path) -> _Trained:
        """Check what may have changed since submitting, then train in a daemon thread."""
        source = resolve_dataset(self.spec.dataset, self.config.dataset_dir)
        await check_name_free(self.js, self.spec.adapter_name)
        loop = asyncio.get_running_loop()
        events = self._events
        cancel = self.cancel
        log = self.log
        job_id = self.job_id

        class Hooks:
            def on_phase(self, stage: TrainingStage) -> None:
                log.info(f"job {stage.value.replace('_', ' ')}", extra={"job_id": job_id})
                loop.call_soon_threadsafe(events.put_nowait, _Stage(stage))

            def on_total(self, total_steps: int, examples: int) -> None:
                loop.call_soon_threadsafe(events.put_nowait, _Total(total_steps, examples))

            def on_step(self, step: int, loss: float) -> None:
                loop.call_soon_threadsafe(events.put_nowait, _Step(step, loss))

        settings, config, spec = self.settings, self.config, self.spec

        def work() -> _Trained:
            model = resolve_model(settings)
            plan = Plan(
                spec=spec,
                source=source,
                model=model,
                device=device,
                max_length=config.max_length,
                batch_size=config.batch_size,
                seed=config.seed,
                hf_token=settings.hf_token,
                cancel=cancel,
            )
            return _Trained(model_id=model.model_id, result=train(plan, Hooks(), out_dir))

        return await in_daemon_thread(work, name=f"train-{self.job_id}")

    async def _publish(self, trained: _Trained, out_dir: Path) -> str:
        if self.cancel.is_set():
            raise Cancelled()
        meta = AdapterMeta(
            name=self.spec.adapter_name,
            base_model=trained.model_id,
            created=utc_timestamp(),
            dataset=self.spec.dataset,
            steps=trained.result.steps,
            size_bytes=0,
            final_loss=trained.result.final_loss,
            job_id=self.job_id,
            lora_r=self.spec.lora_r,
            lora_alpha=self.spec.lora_alpha,
        )
        registered = await publish_adapter(
            self.nc, self.js, out_dir, meta, self.config.register_timeout_s, self.log, self.settings.nats_replicas
        )
        self.log.info(
            "adapter registered",
            extra={"job_id": self.job_id, "adapter": registered.name, "bytes": registered.size_bytes},
        )
        return registered.name

    # -- records and progress ----------------------------------------------------------------

    def _to_running(self, record: JobRecord, device: str) -> JobRecord | None:
        if record.state is not JobState.QUEUED:
            return None
        now = now_iso()
        return msgspec.structs.replace(
            record,
            state=JobState.RUNNING,
            started=now,
            heartbeat=now,
            worker_id=self.settings.worker_id,
            host=this_host(),
            device=device,
            queue_position=None,
            ack_subject=self.msg.reply or None,
            step=0,
            total_steps=None,
            loss_history=[],
            error=None,
        )

    def _owned(self, record: JobRecord) -> bool:
        return record.state is JobState.RUNNING and record.worker_id == self.settings.worker_id

    def _snapshot(self, record: JobRecord) -> JobRecord | None:
        if not self._owned(record):
            return None
        return msgspec.structs.replace(
            record,
            step=self._step,
            total_steps=self._total,
            loss_history=list(self._losses),
            heartbeat=now_iso(),
            stage=self._stage,
        )

    async def _write(self) -> None:
        """Store the current step, losses and a fresh heartbeat (only while this worker owns the record)."""
        async with self._write_lock:
            self._last_write = time.monotonic()
            try:
                stored = await self.store.change(self.job_id, self._snapshot)
            except Exception as exc:  # NATS away for a moment: the next write catches up
                self.log.warning("job record not written", extra={"job_id": self.job_id, "error": repr(exc)})
                return
            if stored is not None and self._owned(stored):
                self.record = stored
            elif not self._lost:
                self._lost = True
                self.log.warning("job record changed by someone else: stopping", extra={"job_id": self.job_id})
                self.request_cancel("another training worker declared this job's worker dead", JobState.FAILED)

    async def _pump(self) -> None:
        """Apply the training thread's reports in order: every step is published, KV writes are throttled."""
        while (event := await self._events.get()) is not None:
            self._apply(event)
            if isinstance(event, _Total | _Stage) or time.monotonic() - self._last_write >= self.config.kv_interval_s:
                await self._write()
            if self.record is not None:
                loss = event.loss if isinstance(event, _Step) else None
                record = msgspec.structs.replace(
                    self.record, step=self._step, total_steps=self._total, loss_history=self._losses, stage=self._stage
                )
                await publish_progress(self.nc, record, loss)
            if time.monotonic() - self._last_in_progress >= IN_PROGRESS_EVERY_S:
                await self._in_progress()

    def _apply(self, event: _Total | _Stage | _Step) -> None:
        if isinstance(event, _Stage):
            self._stage = event.stage
        elif isinstance(event, _Total):
            self._total = event.steps
            self.log.info(
                "job planned", extra={"job_id": self.job_id, "steps": event.steps, "examples": event.examples}
            )
        elif math.isfinite(event.loss):
            self._step = event.step
            self._losses.append(event.loss)

    async def _end_pump(self, pump: asyncio.Task[None], timeout_s: float = 5.0) -> None:
        """Let the pump publish what the thread reported before it finished, then stop it.

        The thread hands its reports to the loop before its result, so they are all queued by now.
        """
        if not pump.done():
            self._events.put_nowait(None)
            await asyncio.wait({pump}, timeout=timeout_s)
            pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        while not self._events.empty():  # left over after a timeout: into the record at least
            event = self._events.get_nowait()
            if event is not None:
                self._apply(event)

    async def _heartbeat(self) -> None:
        """Tell JetStream the job lives (no redelivery) and refresh the record's heartbeat, also while loading."""
        while True:
            await self._in_progress()
            await self._write()
            await asyncio.sleep(self.config.heartbeat_s)

    async def _in_progress(self) -> None:
        self._last_in_progress = time.monotonic()
        with contextlib.suppress(Exception):
            await self.msg.in_progress()

    async def _finish(self, state: JobState, error: str | None, adapter: str | None) -> None:
        def final(record: JobRecord) -> JobRecord | None:
            snapshot = self._snapshot(record)
            if snapshot is None:
                return None
            return msgspec.structs.replace(
                snapshot, state=state, error=error, adapter=adapter, finished=now_iso(), ack_subject=None, stage=None
            )

        async with self._write_lock:
            for attempt in range(5):
                try:
                    stored = await self.store.change(self.job_id, final)
                    break
                except Exception as exc:
                    self.log.warning(
                        "final job record not written yet", extra={"job_id": self.job_id, "error": repr(exc)}
                    )
                    await asyncio.sleep(0.5 * (attempt + 1))
            else:
                stored = None
        if stored is not None:
            self.record = stored
            await publish_progress(self.nc, stored)
        extra = {"job_id": self.job_id, "state": state.value, "steps": self._step}
        if state is JobState.FAILED:
            self.log.warning("job failed", extra={**extra, "error": error})
        else:
            self.log.info("job ended", extra=extra)

    async def _ack(self) -> None:
        try:
            await self.msg.ack()
        except Exception as exc:
            self.log.warning("job message not acked", extra={"job_id": self.job_id, "error": repr(exc)})
