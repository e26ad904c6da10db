"""The training actor's wiring: jobs from stream TRAIN_JOBS, one at a time, through one durable pull consumer
(`fetch_loop`); the endpoints `svc.training.submit`, `.jobs`, `.job` and `.forget` (`requests`) and
`svc.training.datasets.*` (`dataset_requests`); `train.cancel.<job_id>` stops a job (`cancel`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from messages import (
    AddDataset,
    DatasetInfo,
    DatasetList,
    ErrorCode,
    FineTuneSpec,
    ForgetJob,
    GetDataset,
    GetJob,
    JobList,
    JobRecord,
    ListDatasets,
    ListJobs,
    SwitchboardError,
    subjects,
)
from services.runtime import Actor, ActorContext, Responder, Settings, decoding, get_logger, when_ready

from .cancel import Cancels
from .config import TrainingConfig
from .dataset_requests import DatasetRequests
from .fetch_loop import FetchLoop
from .metrics import TrainingMetrics
from .orphans import Orphans
from .queue import Positions
from .requests import JobRequests
from .started import Started, open_started
from .validate import decode_request

Answer = Callable[[bytes], Awaitable[JobRecord | JobList | DatasetInfo | DatasetList]]


@dataclass(frozen=True)
class _Running:
    """What `start` made: the NATS side, and the parts `stop` ends."""

    started: Started
    fetch_loop: FetchLoop
    fetching: asyncio.Task[None]  # `fetch_loop.loop()`
    cancels: Cancels


class TrainingActor(Actor):
    name: ClassVar[str] = subjects.TRAINING_SERVICE
    description: ClassVar[str] = "Fine-tunes LoRA adapters (QLoRA on CUDA) from the JetStream work queue TRAIN_JOBS"

    def __init__(self, settings: Settings, config: TrainingConfig | None = None) -> None:
        self.settings = settings
        self.config = config or TrainingConfig.from_env()
        self._responder = Responder(get_logger(self.name), "job store")
        self._stopping = asyncio.Event()
        self._running: _Running | None = None

    def metadata(self) -> dict[str, str]:
        return {"device": self.config.device, "max_length": str(self.config.max_length)}

    @property
    def started(self) -> Started:
        """The stream, buckets and consumer `start` opened. Raises SwitchboardError(UNAVAILABLE) before."""
        if self._running is None:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "the training service has not started")
        return self._running.started

    async def start(self, ctx: ActorContext) -> None:
        started = await open_started(ctx, self.settings, self.config)
        metrics = TrainingMetrics(ctx.metrics.registry)

        async def count_jobs() -> None:
            metrics.count_jobs(await started.store.all())

        ctx.metrics.before_scrape(count_jobs)
        positions = Positions(started.nc, started.js, started.store, ctx.log)
        orphans = Orphans(started)
        fetch_loop = FetchLoop(started, orphans, positions, self._stopping)
        submitting = asyncio.Lock()  # one job queued at a time here; a dataset is deleted under it too
        jobs = JobRequests(started, orphans, positions, submitting, self._stopping)
        datasets = DatasetRequests(started, submitting)
        cancels = Cancels(started, fetch_loop, jobs, positions)
        await when_ready(orphans.recover, "the jobs in KV training", ctx.log)
        await when_ready(positions.refresh, "the jobs in KV training", ctx.log)
        await ctx.nc.subscribe(subjects.TRAIN_CANCEL_WILDCARD, cb=cancels.on_cancel)
        endpoints: list[tuple[str, str, Answer]] = [
            ("submit", subjects.TRAINING_SUBMIT, decoding(decode_request, FineTuneSpec, jobs.submit)),
            ("jobs", subjects.TRAINING_JOBS, decoding(decode_request, ListJobs, jobs.list_jobs)),
            ("job", subjects.TRAINING_JOB, decoding(decode_request, GetJob, jobs.get_job)),
            ("forget", subjects.TRAINING_FORGET, decoding(decode_request, ForgetJob, jobs.forget)),
            ("datasets-add", subjects.DATASETS_ADD, decoding(decode_request, AddDataset, datasets.add)),
            ("datasets-list", subjects.DATASETS_LIST, decoding(decode_request, ListDatasets, datasets.list_all)),
            ("datasets-get", subjects.DATASETS_GET, decoding(decode_request, GetDataset, datasets.get)),
            ("datasets-delete", subjects.DATASETS_DELETE, decoding(decode_request, GetDataset, datasets.delete)),
        ]
        for name, subject, answer in endpoints:
            await ctx.service.add_endpoint(
                name=name,
                subject=subject,
                queue_group=subjects.TRAINING_QUEUE,
                handler=self._responder.handler(name, answer),
            )
        fetching = asyncio.create_task(fetch_loop.loop())
        self._running = _Running(started=started, fetch_loop=fetch_loop, fetching=fetching, cancels=cancels)

    async def stop(self) -> None:
        """Stop fetching; a running job saves a checkpoint and goes back to the queue for the next worker (see
        `JobRun.request_hand_back`), the GPU given back."""
        self._stopping.set()
        running = self._running
        if running is None:  # never started: nothing runs
            return
        running.fetching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running.fetching
        await running.fetch_loop.hand_back(self.config.stop_grace_s)
        with contextlib.suppress(Exception):  # else drain() waits ~30 s for an expired fetch
            await running.started.pull.unsubscribe()
        await self._responder.drain(10)
        await running.cancels.drain(10)
