"""The training actor: jobs from stream TRAIN_JOBS, one at a time, through one durable pull consumer;
`svc.training.submit`, `.jobs` and `.job`; `train.cancel.<job_id>` stops a job."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.object_store import ObjectStore

from messages import (
    AddDataset,
    CancelJob,
    DatasetInfo,
    DatasetList,
    ErrorCode,
    ErrorMessage,
    FineTuneSpec,
    ForgetJob,
    GetDataset,
    GetJob,
    GpuHandoff,
    JobList,
    JobRecord,
    JobState,
    ListDatasets,
    ListJobs,
    SwitchboardError,
    decode,
    encode,
    subjects,
)
from messages.training import FINISHED_STATES
from services.runtime import (
    Actor,
    ActorContext,
    Responder,
    Settings,
    decoding,
    ensure_stream,
    get_logger,
    open_object_store,
    resolve_model,
    when_ready,
)

from .config import TrainingConfig
from .datasets import DatasetStore, check_upload
from .gpu import reclaim_gpu, this_host
from .hub_check import check_hub_dataset
from .jobs import CANCELLED_BY_USER, JobRun
from .liveness import live_workers
from .metrics import TrainingMetrics
from .progress import publish_progress
from .queue import pending_job_ids, refresh_positions
from .records import JobExists, JobStore, age_s, now_iso
from .sources import DATASET_FIELD, SourceKind
from .submit import submit_job
from .trainer import VALIDATION_FIELD
from .validate import check_name_free, check_not_training, check_spec_fields, decode_request, find_dataset

# what a job's record says, for people: which worker it was (an internal id) is in the training service's log
STOPPED_HERE = "the training service stopped during this job"
ORPHANED = f"{STOPPED_HERE}; submit it again"
GAVE_UP = "the training service stopped during this job {times} times, so it is not taken up again; submit it again"
MAX_RESUMES = 3  # a job whose worker died this many times is failed, not taken up again (a crash loop)


class TrainingActor(Actor):
    name: ClassVar[str] = subjects.TRAINING_SERVICE
    description: ClassVar[str] = "Fine-tunes LoRA adapters (QLoRA on CUDA) from the JetStream work queue TRAIN_JOBS"

    def __init__(self, settings: Settings, config: TrainingConfig | None = None) -> None:
        self.settings = settings
        self.config = config or TrainingConfig.from_env()
        self._log: logging.Logger = get_logger(self.name)
        self._responder = Responder(self._log, "job store")
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._store: JobStore | None = None
        self._datasets: DatasetStore | None = None
        self._checkpoints: ObjectStore | None = None
        self._tokenizer: Any = None
        self._tokenizer_lock = asyncio.Lock()
        self._pull: JetStreamContext.PullSubscription | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._run: JobRun | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._requests: set[asyncio.Task[None]] = set()
        self._submit_lock = asyncio.Lock()
        self._positions_lock = asyncio.Lock()
        self._stopping = False

    def metadata(self) -> dict[str, str]:
        return {"device": self.config.device, "max_length": str(self.config.max_length)}

    async def start(self, ctx: ActorContext) -> None:
        self._log = ctx.log
        self._nc = ctx.nc
        self._js = ctx.js
        metrics = TrainingMetrics(ctx.metrics.registry)

        async def count_jobs() -> None:
            metrics.count_jobs(await self.store.all())

        ctx.metrics.before_scrape(count_jobs)
        await ensure_stream(
            ctx.js,
            StreamConfig(
                name=subjects.TRAIN_JOBS_STREAM,
                description="Fine-tune job specs, one message per job, removed when the job ends",
                subjects=[subjects.TRAIN_JOBS],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                max_msgs=self.config.max_queued,
                discard=DiscardPolicy.NEW,
                duplicate_window=120.0,
                num_replicas=ctx.settings.nats_replicas,
            ),
            ctx.log,
        )
        self._store = await JobStore.open(ctx.js, self.config.kv_history, ctx.log, ctx.settings.nats_replicas)
        self._datasets = await DatasetStore.open(ctx.js, ctx.log, ctx.settings.nats_replicas)
        self._checkpoints = await open_object_store(
            ctx.js,
            subjects.CHECKPOINTS_BUCKET,
            "<job_id>: a running fine-tune's last checkpoint",
            ctx.log,
            replicas=ctx.settings.nats_replicas,
        )
        await when_ready(self._recover, "the jobs in KV training", ctx.log)
        await when_ready(self._refresh_positions, "the jobs in KV training", ctx.log)
        await ctx.nc.subscribe(subjects.TRAIN_CANCEL_WILDCARD, cb=self._on_cancel)
        endpoints: list[tuple[str, str, Callable[[bytes], Awaitable[JobRecord | JobList | DatasetInfo | DatasetList]]]]
        endpoints = [
            ("submit", subjects.TRAINING_SUBMIT, decoding(decode_request, FineTuneSpec, self.submit)),
            ("jobs", subjects.TRAINING_JOBS, decoding(decode_request, ListJobs, self.list_jobs)),
            ("job", subjects.TRAINING_JOB, decoding(decode_request, GetJob, self.get_job)),
            ("forget", subjects.TRAINING_FORGET, decoding(decode_request, ForgetJob, self.forget)),
            ("datasets-add", subjects.DATASETS_ADD, decoding(decode_request, AddDataset, self.add_dataset)),
            ("datasets-list", subjects.DATASETS_LIST, decoding(decode_request, ListDatasets, self.list_datasets)),
            ("datasets-get", subjects.DATASETS_GET, decoding(decode_request, GetDataset, self.get_dataset)),
            ("datasets-delete", subjects.DATASETS_DELETE, decoding(decode_request, GetDataset, self.delete_dataset)),
        ]
        for name, subject, answer in endpoints:
            await ctx.service.add_endpoint(
                name=name,
                subject=subject,
                queue_group=subjects.TRAINING_QUEUE,
                handler=self._responder.handler(name, answer),
            )
        self._pull = await when_ready(lambda: self._subscribe(ctx.js), "stream TRAIN_JOBS's consumer", ctx.log)
        self._loop_task = asyncio.create_task(self._fetch_loop())

    async def stop(self) -> None:
        """Stop fetching; a running job saves a checkpoint and goes back to the queue for the next worker (see
        `JobRun.request_hand_back`), the GPU given back."""
        self._stopping = True
        run, run_task = self._run, self._run_task
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if run is not None and run_task is not None and not run_task.done():
            self._log.info("stopping the running job", extra={"job_id": run.job_id})
            run.request_hand_back()
            await asyncio.wait({run_task}, timeout=self.config.stop_grace_s)
            if not run_task.done():  # stuck in a long load: record it now, the daemon thread dies with us
                run_task.cancel()
                await asyncio.wait({run_task}, timeout=10)
        if self._pull is not None:  # else drain() waits ~30 s for an expired fetch
            with contextlib.suppress(Exception):
                await self._pull.unsubscribe()
        await self._responder.drain(10)
        if self._requests:
            await asyncio.wait(self._requests, timeout=10)

    @property
    def store(self) -> JobStore:
        if self._store is None:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "the training service has not started")
        return self._store

    @property
    def datasets(self) -> DatasetStore:
        if self._datasets is None:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "the training service has not started")
        return self._datasets

    @property
    def checkpoints(self) -> ObjectStore:
        if self._checkpoints is None:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "the training service has not started")
        return self._checkpoints

    # -- datasets ----------------------------------------------------------------------------

    async def add_dataset(self, request: AddDataset) -> DatasetInfo:
        """Check an upload and store it as a dataset (see `datasets.DatasetStore.add`)."""
        tokenizer, base_model = await self._tokenizer_and_model()
        max_bytes = self.config.dataset_max_bytes

        def check(data: bytes) -> DatasetInfo:
            return check_upload(request.name, data, tokenizer, base_model, max_bytes)

        info = await self.datasets.add(request, check, max_bytes)
        extra = {"dataset": info.name, "format": info.format, "rows": info.rows, "tokens": info.tokens}
        self._log.info("dataset added", extra=extra)
        return info

    async def list_datasets(self, request: ListDatasets) -> DatasetList:
        return DatasetList(datasets=await self.datasets.all())

    async def get_dataset(self, request: GetDataset) -> DatasetInfo:
        info = await self.datasets.get(request.name)
        if info is None:
            raise _no_dataset(request.name)
        return info

    async def delete_dataset(self, request: GetDataset) -> DatasetInfo:
        """Remove a dataset no queued or running job reads (under the submit lock: a job submitted to this
        worker at the same moment either sees the dataset gone or keeps it)."""
        async with self._submit_lock:
            return await self._delete_dataset(request)

    async def _delete_dataset(self, request: GetDataset) -> DatasetInfo:
        for record in await self.store.all():
            names = (record.spec.dataset, record.spec.validation_dataset)
            if record.state in (JobState.QUEUED, JobState.RUNNING) and request.name in names:
                raise SwitchboardError(
                    ErrorCode.CONFLICT,
                    f"is in use: job {record.spec.job_id} ({record.state.value}) trains on dataset "
                    f"{request.name!r}; cancel it or wait for it to end",
                    "name",
                )
        info = await self.datasets.delete(request.name)
        if info is None:
            raise _no_dataset(request.name)
        self._log.info("dataset deleted", extra={"dataset": request.name})
        return info

    async def _tokenizer_and_model(self) -> tuple[Any, str]:
        """The base model's tokenizer (loaded once) and its id: datasets' tokens are counted with it."""
        model = resolve_model(self.settings)
        async with self._tokenizer_lock:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                self._tokenizer = await asyncio.to_thread(
                    AutoTokenizer.from_pretrained, model.location, token=self.settings.hf_token
                )
        return self._tokenizer, model.model_id

    # -- requests ----------------------------------------------------------------------------

    async def submit(self, spec: FineTuneSpec) -> JobRecord:
        """Validate, queue, and answer with the queued record (its queue position filled in)."""
        assert self._js is not None
        if self._stopping:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "the training service is shutting down; try again")
        check_spec_fields(spec)
        await check_name_free(self._js, spec.adapter_name)
        named = [(spec.dataset, DATASET_FIELD)]
        if spec.validation_dataset is not None:
            named.append((spec.validation_dataset, VALIDATION_FIELD))
        uploaded = set()
        for name, field in named:
            source = await find_dataset(name, self.config, self.datasets, field)
            if source.kind is SourceKind.UPLOADED:
                uploaded.add(name)
            elif source.kind is SourceKind.HUB:
                try:
                    await asyncio.to_thread(
                        check_hub_dataset, source.location, self.settings.hf_token, self.config.hub_endpoint
                    )
                except SwitchboardError as exc:
                    raise SwitchboardError(exc.code, exc.message, field) from None
        async with self._submit_lock:  # one submitter at a time here, so queue order and positions agree
            for name, field in named:  # deleteDataset takes this lock too: an uploaded dataset is still there
                if name in uploaded and await self.datasets.get(name) is None:
                    raise SwitchboardError(ErrorCode.NOT_FOUND, f"names a dataset deleted just now ({name!r})", field)
            pending = [r for job_id in await pending_job_ids(self._js) if (r := await self.store.get(job_id))]
            check_not_training(spec.adapter_name, pending)
            record = await submit_job(self._nats(), self._js, self.store, spec)
        self._log.info(
            "job queued", extra={"job_id": spec.job_id, "adapter": spec.adapter_name, "dataset": spec.dataset}
        )
        await self._refresh_positions()  # tells watchers if its position changed meanwhile
        return await self.store.get(spec.job_id) or record

    async def list_jobs(self, request: ListJobs) -> JobList:
        return JobList(jobs=await self.store.all())

    async def get_job(self, request: GetJob) -> JobRecord:
        """The job's record. A "running" job whose heartbeat stopped (its worker was killed) is marked failed
        first, so whoever asks learns it within `stale_after_s`, not when the queue redelivers it."""
        record = await self.store.get(request.job_id)
        if record is None:
            raise _no_job(request.job_id)
        if record.state is JobState.RUNNING and age_s(record.heartbeat) > self.config.stale_after_s:
            await self._take_up_orphan(record)
            record = await self.store.get(request.job_id) or record
        return record

    async def forget(self, request: ForgetJob) -> JobRecord:
        """Drop a finished job's record (its adapter, if any, stays registered); returns what was dropped."""
        record = await self.store.forget(request.job_id, FINISHED_STATES)
        if record is None:
            raise _no_job(request.job_id)
        self._log.info("job forgotten", extra={"job_id": request.job_id, "state": record.state.value})
        return record

    async def cancel(self, job_id: str, reason: str = CANCELLED_BY_USER) -> JobRecord:
        """Cancel a queued job (it is skipped when fetched) or stop the one running here."""
        run = self._run
        if run is not None and run.job_id == job_id:
            run.request_cancel(reason)
            return run.record or await self.get_job(GetJob(job_id=job_id))

        before: list[JobRecord] = []  # what the last attempt read

        def cancelled(record: JobRecord) -> JobRecord | None:
            before[:] = [record]
            if record.state is not JobState.QUEUED:
                return None
            return msgspec.structs.replace(
                record, state=JobState.CANCELLED, error=reason, finished=now_iso(), queue_position=None
            )

        stored = await self.store.change(job_id, cancelled)
        if stored is None:
            raise _no_job(job_id)
        if before and before[0].state is JobState.QUEUED:
            self._log.info("queued job cancelled", extra={"job_id": job_id})
            await publish_progress(self._nats(), stored)
            await self._refresh_positions()
            return stored
        if stored.state in FINISHED_STATES:
            raise SwitchboardError(
                ErrorCode.CONFLICT, f"job {job_id} has already {stored.state.value}; there is nothing to cancel"
            )
        run = self._run  # it may have started while we looked
        if run is not None and run.job_id == job_id:
            run.request_cancel(reason)
        return stored  # running on another worker, which got the cancel too

    async def _on_cancel(self, msg: Msg) -> None:
        job_id = subjects.request_id_of(msg.subject)
        reason = CANCELLED_BY_USER
        with contextlib.suppress(msgspec.MsgspecError):
            if msg.data.strip():
                reason = msgspec.json.decode(msg.data, type=CancelJob).reason or reason
        task = asyncio.create_task(self._cancel_and_reply(msg, job_id, reason))
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def _cancel_and_reply(self, msg: Msg, job_id: str, reason: str) -> None:
        try:
            reply: JobRecord | ErrorMessage = await self.cancel(job_id, reason)
        except SwitchboardError as exc:
            reply = exc.to_message()
        except Exception as exc:
            self._log.exception("cancel failed", extra={"job_id": job_id})
            reply = ErrorMessage(ErrorCode.INTERNAL, f"internal error: {exc}")
        if msg.reply:
            with contextlib.suppress(Exception):
                await msg.respond(encode(reply))

    # -- the work queue ----------------------------------------------------------------------

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        """The durable pull consumer every training worker shares: one job in flight at a time."""
        config = ConsumerConfig(
            durable_name=subjects.TRAIN_CONSUMER,
            description="the training workers: one job at a time, acked when it ends",
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.config.ack_wait_s,
            max_ack_pending=1,
            max_deliver=-1,
            filter_subject=subjects.TRAIN_JOBS,
        )
        await js.add_consumer(subjects.TRAIN_JOBS_STREAM, config=config)
        return await js.pull_subscribe_bind(durable=subjects.TRAIN_CONSUMER, stream=subjects.TRAIN_JOBS_STREAM)

    async def _fetch_loop(self) -> None:
        assert self._pull is not None
        while not self._stopping:
            try:
                msgs = await self._pull.fetch(1, timeout=self.config.fetch_timeout_s)
            except NatsTimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._log.warning("fetching jobs failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                if self._stopping:
                    with contextlib.suppress(Exception):
                        await msg.nak()  # for the next worker, at once
                    return
                try:
                    await self._take(msg)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self._log.exception("job message handling failed; it is redelivered later")

    async def _take(self, msg: Msg) -> None:
        """Decide what a fetched job message means, and run the job if it is waiting."""
        try:
            spec = decode(msg.data, FineTuneSpec)
        except SwitchboardError as exc:
            self._log.warning("not a job spec: dropped", extra={"error": str(exc)})
            await msg.term()
            return
        record = await self.store.get(spec.job_id)
        if record is None:  # published without a record (e.g. `nats pub train.jobs`): record it now
            with contextlib.suppress(JobExists):
                await self.store.create(JobRecord(spec=spec, state=JobState.QUEUED, created=now_iso()))
            record = await self.store.get(spec.job_id)
        if record is None or record.state not in (JobState.QUEUED, JobState.RUNNING):
            state = record.state.value if record else "unknown"
            self._log.info("job skipped", extra={"job_id": spec.job_id, "state": state})
            await msg.ack()
            await self._refresh_positions()
            return
        if record.state is JobState.RUNNING:  # redelivered: its worker died, or lost touch for a while
            if await self._orphaned(record):
                if await self._take_up_orphan(record, nak=False):
                    await self._run_job(msg, spec)  # from its last checkpoint
                    return
                await msg.term()
                await self._refresh_positions()
            else:
                self._log.info("job still running on another worker", extra={"job_id": spec.job_id})
                await msg.nak(delay=self.config.stale_after_s)
            return
        await self._run_job(msg, spec)

    async def _run_job(self, msg: Msg, spec: FineTuneSpec) -> None:
        assert self._js is not None
        run = JobRun(
            msg,
            spec,
            nc=self._nats(),
            js=self._js,
            store=self.store,
            settings=self.settings,
            config=self.config,
            log=self._log,
            datasets=self.datasets,
            checkpoints=self.checkpoints,
            on_started=self._refresh_positions,
        )
        self._run = run
        task = asyncio.create_task(self._run_and_report(run))
        self._run_task = task
        try:
            await asyncio.wait({task})  # not cancelled with the fetch loop: stop() ends it visibly
        finally:
            if task.done():
                self._run, self._run_task = None, None

    async def _run_and_report(self, run: JobRun) -> None:
        try:
            await run.run()
        finally:
            with contextlib.suppress(Exception):
                await self._refresh_positions()

    async def _refresh_positions(self) -> None:
        assert self._js is not None
        async with self._positions_lock:
            try:
                changed = await refresh_positions(self._js, self.store)
            except (NatsError, SwitchboardError) as exc:
                self._log.warning("queue positions not updated", extra={"error": repr(exc)})
                return
        for record in changed:
            await publish_progress(self._nats(), record)

    # -- jobs whose worker died --------------------------------------------------------------

    async def _recover(self) -> None:
        """Mark jobs left "running" by a worker that is gone as failed, end their messages, return the GPU."""
        running = [r for r in await self.store.all() if r.state is JobState.RUNNING]
        if not running:
            return
        alive = await live_workers(self._nats())
        for record in running:
            if await self._orphaned(record, alive):
                await self._take_up_orphan(record)

    async def _orphaned(self, record: JobRecord, alive: set[str] | None = None) -> bool:
        run = self._run
        if record.worker_id == self.settings.worker_id:  # an earlier life of this worker id
            return run is None or run.job_id != record.spec.job_id
        if age_s(record.heartbeat) > self.config.stale_after_s:
            return True
        if alive is None:
            alive = await live_workers(self._nats())
        return record.worker_id not in alive

    async def _take_up_orphan(self, record: JobRecord, nak: bool = True) -> bool:
        """A running job whose worker is gone goes back to the queue, to resume from its last checkpoint;
        True when it did. After MAX_RESUMES it is failed instead (and its message ended).

        With `nak`, its message is handed back to JetStream at once (else it waits out TRAIN_ACK_WAIT_S).
        """
        worker = record.worker_id or "unknown"
        why = None
        if record.resumes >= MAX_RESUMES:
            why = GAVE_UP.format(times=record.resumes + 1)
        elif not record.ack_subject:  # its queue message is unknown: nothing would take it up again
            why = ORPHANED

        def changed(stored: JobRecord) -> JobRecord | None:
            if stored.state is not JobState.RUNNING or stored.worker_id != record.worker_id:
                return None
            if why is not None:
                return msgspec.structs.replace(
                    stored, state=JobState.FAILED, error=why, finished=now_iso(), ack_subject=None, stage=None
                )
            return msgspec.structs.replace(
                stored,
                state=JobState.QUEUED,
                stage=None,
                worker_id=None,
                heartbeat=None,
                resumes=stored.resumes + 1,
                error=f"{STOPPED_HERE}; taken up again from step {stored.checkpoint_step or 0}",
            )

        stored = await self.store.change(record.spec.job_id, changed)
        if stored is None or stored.state is JobState.RUNNING or (stored.resumes == record.resumes and why is None):
            return False
        extra = {"job_id": record.spec.job_id, "worker": worker, "checkpoint_step": record.checkpoint_step}
        if why is None:
            self._log.warning("orphaned job taken up again", extra=extra)
        else:
            self._log.warning("orphaned job failed: it stopped its worker too often", extra=extra)
        await publish_progress(self._nats(), stored)
        if record.ack_subject:  # hand its message back now, so the queue does not wait out the ack timeout
            if why is not None:
                with contextlib.suppress(Exception):
                    await self._nats().publish(record.ack_subject, b"+TERM")
            elif nak:
                with contextlib.suppress(Exception):
                    await self._nats().publish(record.ack_subject, b"-NAK")
        if record.device == "cuda":
            handoff = GpuHandoff(host=record.host or this_host(), job_id=record.spec.job_id)
            await reclaim_gpu(self._nats(), handoff, self.config.gpu_timeout_s, self._log)
        return why is None

    # -- endpoint plumbing -------------------------------------------------------------------

    def _nats(self) -> Client:
        assert self._nc is not None
        return self._nc


def _no_dataset(name: str) -> SwitchboardError:
    return SwitchboardError(ErrorCode.NOT_FOUND, f"names no dataset ({name!r})", "name")


def _no_job(job_id: str) -> SwitchboardError:
    return SwitchboardError(ErrorCode.NOT_FOUND, f"names no job ({job_id!r})", "job_id")
