"""One job on this worker, from its message being fetched to its ack: state changes in KV `training`,
progress on `train.progress.<job_id>`, heartbeats to JetStream, the GPU handoff, the adapter's upload."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from messages import (
    AdapterMeta,
    ErrorCode,
    EvalPoint,
    FineTuneSpec,
    GpuHandoff,
    JobRecord,
    JobState,
    SwitchboardError,
    TrainingStage,
    subjects,
    utc_timestamp,
)
from services.runtime import Settings, resolve_model

from .child import context as child_context
from .child import run_child
from .config import TrainingConfig
from .datasets import DatasetStore
from .examples import Prepared
from .gpu import reclaim_gpu, release_gpu, this_host
from .progress import publish_progress
from .publish import publish_adapter
from .records import JobStore, now_iso
from .sources import DatasetSource, SourceKind
from .threads import in_daemon_thread
from .trainer import VALIDATION_FIELD, Cancelled, Evaluation, Plan, Result, pick_device
from .validate import check_name_free, find_dataset

CANCELLED_BY_USER = "cancelled by user"
STOPPED = "the training service was stopped during this job; submit it again"
HANDED_BACK = "the training service {worker} stopped; the job goes on from step {step} on the next worker"
IN_PROGRESS_EVERY_S = 1.0  # at most this often per step; the heartbeat covers slow steps and loading


@dataclass(frozen=True)
class _Total:
    steps: int
    prepared: Prepared  # its counts and questions (the examples stay in the training process)
    train_rows: int
    validation_rows: int


@dataclass(frozen=True)
class _Eval:
    evaluation: Evaluation


@dataclass(frozen=True)
class _Checkpoint:
    step: int
    data: bytes


@dataclass(frozen=True)
class _Stage:
    stage: TrainingStage


@dataclass(frozen=True)
class _Step:
    step: int
    loss: float
    evaluation: Evaluation | None = None


_Event = _Total | _Stage | _Step | _Eval | _Checkpoint


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
        datasets: DatasetStore,
        checkpoints: ObjectStore,
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
        self.cancel = child_context().Event()  # seen by the training process too
        self.hand_back = child_context().Event()  # the service stops: checkpoint, and give the job back
        self.cancel_state = JobState.CANCELLED
        self.cancel_reason = CANCELLED_BY_USER
        self.record: JobRecord | None = None  # what this run last wrote
        self.datasets = datasets
        self.checkpoints = checkpoints
        self._step = 0
        self._total: int | None = None
        self._stage: TrainingStage | None = None
        self._losses: list[float] = []
        self._evals: list[EvalPoint] = []
        self._best_step: int | None = None
        self._data: dict[str, object] = {}  # the record's data fields, once the data is loaded
        self._checkpoint_step: int | None = None
        self._events: asyncio.Queue[_Event | None] = asyncio.Queue()  # None: no more
        self._write_lock = asyncio.Lock()
        self._last_write = 0.0
        self._last_in_progress = 0.0
        self._lost = False  # someone else changed the record (declared this worker dead)

    @property
    def job_id(self) -> str:
        return self.spec.job_id

    def request_hand_back(self) -> None:
        """The service is stopping: the job stops at the next micro-batch, saves a checkpoint of the last step
        and goes back to the queue for the next worker (a cancel asked for first wins)."""
        if not self.cancel.is_set():
            self.hand_back.set()
            self.request_cancel(STOPPED, JobState.QUEUED)

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
            state, error, stopping = JobState.QUEUED, STOPPED, exc  # handed back from its last checkpoint
        except Exception as exc:
            self.log.exception("job crashed", extra={"job_id": self.job_id})
            state, error = JobState.FAILED, f"training failed: {type(exc).__name__}: {exc}"
        finally:
            beat.cancel()
            await self._end_pump(pump)
            await asyncio.gather(beat, return_exceptions=True)
            shutil.rmtree(out_dir, ignore_errors=True)
            handed_back = state is JobState.QUEUED
            if not handed_back:  # a job that ended for good needs its checkpoint no more
                with contextlib.suppress(Exception):
                    await self.checkpoints.delete(self.job_id)
            if device == "cuda":
                await reclaim_gpu(self.nc, handoff, self.config.gpu_timeout_s, self.log)
            if handed_back:
                await self._give_back()
            else:
                await self._finish(state, error, adapter)
                await self._ack()
        if stopping is not None:
            raise stopping

    # -- steps -------------------------------------------------------------------------------

    async def _train(self, device: str, out_dir: Path) -> _Trained:
        """Check what may have changed since submitting, fetch the data and any checkpoint, train in a thread."""
        await check_name_free(self.js, self.spec.adapter_name)
        source = await self._local(await find_dataset(self.spec.dataset, self.config, self.datasets), out_dir)
        validation = None
        if self.spec.validation_dataset is not None:
            found = await find_dataset(self.spec.validation_dataset, self.config, self.datasets, VALIDATION_FIELD)
            validation = await self._local(found, out_dir)
        resume = await self._checkpoint()
        loop = asyncio.get_running_loop()
        events = self._events
        log = self.log
        job_id = self.job_id

        def report(event: tuple[Any, ...]) -> None:
            """An event tuple from the training process (see `child._PipeHooks`), onto the loop."""
            kind = event[0]
            item: _Event
            if kind == "phase":
                stage = TrainingStage(event[1])
                log.info(f"job {stage.value.replace('_', ' ')}", extra={"job_id": job_id})
                item = _Stage(stage)
            elif kind == "prepared":
                item = _Total(event[2], event[1], train_rows=event[3], validation_rows=event[4])
            elif kind == "step":
                item = _Step(event[1], event[2], event[3])
            elif kind == "eval":
                item = _Eval(event[1])
            else:
                item = _Checkpoint(event[1], event[2])
            loop.call_soon_threadsafe(events.put_nowait, item)

        model = resolve_model(self.settings)
        plan = Plan(
            spec=self.spec,
            source=source,
            model=model,
            device=device,
            max_length=self.config.max_length,
            batch_size=self.config.batch_size,
            seed=self.config.seed,
            hf_token=self.settings.hf_token,
            cancel=self.cancel,
            hand_back=self.hand_back,
            validation=validation,
            overlong=self.config.overlong,
            checkpoint_every_s=self.config.checkpoint_every_s,
            resume=resume,
        )

        def work() -> _Trained:
            return _Trained(model_id=model.model_id, result=run_child(plan, out_dir, report))

        return await in_daemon_thread(work, name=f"train-{self.job_id}")

    async def _local(self, source: DatasetSource, folder: Path) -> DatasetSource:
        """An uploaded dataset copied next to the job's output; other sources as they are."""
        if source.kind is not SourceKind.UPLOADED:
            return source
        path = await self.datasets.download(source.location, folder)
        return DatasetSource(SourceKind.FILE, str(path), source.shown)

    async def _checkpoint(self) -> bytes | None:
        """The checkpoint to resume from, when the record names one. Raises SwitchboardError when unreadable."""
        step = self._checkpoint_step
        if not step:
            return None
        try:
            result = await self.checkpoints.get(self.job_id)
        except (ObjectNotFoundError, NotFoundError):
            raise SwitchboardError(
                ErrorCode.INTERNAL,
                f"the job's checkpoint at step {step} cannot be read: it is gone from Object Store "
                f"{subjects.CHECKPOINTS_BUCKET}; submit it again",
            ) from None
        except Exception as exc:
            raise SwitchboardError(
                ErrorCode.INTERNAL,
                f"the job's checkpoint at step {step} cannot be read ({type(exc).__name__}: {exc}); submit it again",
            ) from exc
        self.log.info("resuming from checkpoint", extra={"job_id": self.job_id, "step": step})
        return result.data or b""

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
        if record.resumes or record.checkpoint_step:  # taken up again: the work up to its checkpoint stands
            kept = record.checkpoint_step or 0
            self._checkpoint_step = record.checkpoint_step
            self._step = kept
            self._losses = list(record.loss_history[:kept])
            self._evals = [e for e in record.eval_history if e.step <= kept]
            return msgspec.structs.replace(
                record,
                state=JobState.RUNNING,
                heartbeat=now,
                worker_id=self.settings.worker_id,
                host=this_host(),
                device=device,
                queue_position=None,
                ack_subject=self.msg.reply or None,
                step=kept,
                loss_history=self._losses,
                eval_history=self._evals,
                resumed_from_step=kept,
                error=None,
            )
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
            eval_history=[],
            checkpoint_step=None,
            error=None,
        )

    def _owned(self, record: JobRecord) -> bool:
        return record.state is JobState.RUNNING and record.worker_id == self.settings.worker_id

    def _snapshot(self, record: JobRecord) -> JobRecord | None:
        if not self._owned(record):
            return None
        return msgspec.structs.replace(self._live(record), heartbeat=now_iso())

    def _live(self, record: JobRecord) -> JobRecord:
        """`record` with what this run knows now."""
        return msgspec.structs.replace(
            record,
            step=self._step,
            total_steps=self._total,
            loss_history=list(self._losses),
            stage=self._stage,
            eval_history=list(self._evals),
            best_step=self._best_step,
            checkpoint_step=self._checkpoint_step,
            **self._data,
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
            if isinstance(event, _Checkpoint):
                await self._store_checkpoint(event)
                continue
            self._apply(event)
            evaluation = event.evaluation if isinstance(event, _Step | _Eval) else None
            urgent = isinstance(event, _Total | _Stage) or evaluation is not None
            if urgent or time.monotonic() - self._last_write >= self.config.kv_interval_s:
                await self._write()
            if self.record is not None:
                loss = event.loss if isinstance(event, _Step) else None
                eval_loss = evaluation.loss if evaluation is not None else None
                await publish_progress(self.nc, self._live(self.record), loss, eval_loss)
            if time.monotonic() - self._last_in_progress >= IN_PROGRESS_EVERY_S:
                await self._in_progress()

    async def _store_checkpoint(self, event: _Checkpoint) -> None:
        """Put the checkpoint in the Object Store, then name its step in the record (so it is never ahead)."""
        try:
            await self.checkpoints.put(self.job_id, event.data)
        except Exception as exc:  # the next one may get through; the job goes on
            self.log.warning("checkpoint not stored", extra={"job_id": self.job_id, "error": repr(exc)})
            return
        self._checkpoint_step = event.step
        self.log.info("checkpoint stored", extra={"job_id": self.job_id, "step": event.step, "bytes": len(event.data)})
        await self._write()

    def _apply(self, event: _Total | _Stage | _Step | _Eval) -> None:
        if isinstance(event, _Stage):
            self._stage = event.stage
        elif isinstance(event, _Total):
            self._total = event.steps
            prepared = event.prepared
            self._data = {
                "data_format": prepared.format.value,
                "train_rows": event.train_rows,
                "validation_rows": event.validation_rows,
                "truncated_rows": prepared.truncated,
                "dropped_rows": prepared.dropped,
                "held_out_prompts": prepared.held_out_prompts,
            }
            extra = {"job_id": self.job_id, "steps": event.steps, "examples": event.train_rows}
            self.log.info("job planned", extra={**extra, "held_out": event.validation_rows})
        elif isinstance(event, _Eval):
            self._evaluated(event.evaluation)
        elif math.isfinite(event.loss):
            self._step = event.step
            self._losses.append(event.loss)
            if event.evaluation is not None:
                self._evaluated(event.evaluation)

    def _evaluated(self, evaluation: Evaluation) -> None:
        if math.isfinite(evaluation.loss):
            self._evals.append(EvalPoint(step=evaluation.step, loss=evaluation.loss))
        self._best_step = evaluation.best_step

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
            if event is not None and not isinstance(event, _Checkpoint):
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

    async def _give_back(self) -> None:
        """Back to the queue, from the last stored checkpoint; its message is handed back to JetStream at once."""
        step = self._checkpoint_step or 0
        why = HANDED_BACK.format(worker=self.settings.worker_id, step=step)

        def queued(record: JobRecord) -> JobRecord | None:
            if not self._owned(record):
                return None
            return msgspec.structs.replace(
                self._live(record), state=JobState.QUEUED, worker_id=None, heartbeat=None, stage=None, error=why
            )

        async with self._write_lock:
            try:
                stored = await self.store.change(self.job_id, queued)
            except Exception as exc:
                self.log.warning("job not handed back", extra={"job_id": self.job_id, "error": repr(exc)})
                stored = None
        if stored is not None and stored.state is JobState.QUEUED:
            self.record = stored
            await publish_progress(self.nc, stored)
            self.log.info("job handed back", extra={"job_id": self.job_id, "checkpoint_step": step})
        try:
            await self.msg.nak()
        except Exception as exc:  # JetStream redelivers it after TRAIN_ACK_WAIT_S anyway
            self.log.warning("job message not handed back", extra={"job_id": self.job_id, "error": repr(exc)})

    async def _ack(self) -> None:
        try:
            await self.msg.ack()
        except Exception as exc:
            self.log.warning("job message not acked", extra={"job_id": self.job_id, "error": repr(exc)})
