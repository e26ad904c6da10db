"""Helpers the training tests share (no tests here): run the training service with the real registry,
speak `svc.training.*` and `train.*` over NATS, wait for a job's state."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from nats.aio.client import Client

from messages import (
    CancelJob,
    ErrorMessage,
    FineTuneSpec,
    GetJob,
    JobList,
    JobListReply,
    JobRecord,
    JobReply,
    JobState,
    ListJobs,
    Progress,
    TrainingStage,
    decode,
    encode,
    subjects,
)
from services.adapters import AdaptersActor, AdaptersConfig
from services.runtime import BUNDLED_MODEL_ID, Settings, running
from services.runtime.testing import until_answering
from services.training import TrainingActor, TrainingConfig
from tests.conftest import worker_settings

UNREACHABLE_HUB = "http://127.0.0.1:9"  # nothing listens on the discard port: a hub id is refused as offline

# tiny on purpose: 2 shared cores; a step of the bundled model at 128 tokens, batch 4, takes about a second
TINY = TrainingConfig(
    dataset_dir=Path(tempfile.mkdtemp(prefix="sb-datasets-")),  # the training service reads local files from here
    max_length=128,
    batch_size=4,
    device="cpu",
    heartbeat_s=1.0,
    ack_wait_s=10.0,
    fetch_timeout_s=1.0,
    kv_interval_s=0.0,
    stop_grace_s=20.0,
    register_timeout_s=10.0,
    hub_endpoint=UNREACHABLE_HUB,
)
REGISTRY = AdaptersConfig(base_model_id=BUNDLED_MODEL_ID)
FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


def unique(prefix: str) -> str:
    """A fresh name: every test shares one nats-server, so one `training` and one `adapters` bucket."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def spec(**changes: Any) -> FineTuneSpec:
    fields: dict[str, Any] = {
        "job_id": unique("job"),
        "adapter_name": unique("tiny"),
        "num_samples": 8,
        "num_epochs": 2.0,
        "max_steps": 3,
        "validation_fraction": 0.0,  # no held-out evaluation unless a test asks (it costs forwards per step)
    }
    fields.update(changes)
    return FineTuneSpec(**fields)


@asynccontextmanager
async def registry(nc: Client, base: Settings) -> AsyncIterator[AdaptersActor]:
    settings = worker_settings(base)
    actor = AdaptersActor(settings, REGISTRY)
    async with running(actor, settings):
        await until_answering(nc, subjects.ADAPTERS_LIST)
        yield actor


@asynccontextmanager
async def trainer(nc: Client, base: Settings, config: TrainingConfig = TINY) -> AsyncIterator[TrainingActor]:
    settings = worker_settings(base)
    actor = TrainingActor(settings, config)
    async with running(actor, settings):
        await until_answering(nc, subjects.TRAINING_JOBS)
        yield actor


@asynccontextmanager
async def training(nc: Client, base: Settings, config: TrainingConfig = TINY) -> AsyncIterator[TrainingActor]:
    """The registry and a training worker, both real actors on the session's nats-server."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(registry(nc, base))
        yield await stack.enter_async_context(trainer(nc, base, config))


async def raw_submit(nc: Client, payload: bytes, timeout: float = 20.0) -> tuple[JobReply, bool]:
    """Send a payload to `svc.training.submit`; the decoded reply and whether micro's error headers were set."""
    msg = await nc.request(subjects.TRAINING_SUBMIT, payload, timeout=timeout)
    flagged = bool(msg.headers and msg.headers.get("Nats-Service-Error-Code"))
    return decode(msg.data, JobReply), flagged  # type: ignore[arg-type]


async def submit(nc: Client, job: FineTuneSpec) -> JobReply:
    reply, flagged = await raw_submit(nc, encode(job))
    assert flagged == isinstance(reply, ErrorMessage), reply
    return reply


async def submitted(nc: Client, job: FineTuneSpec) -> JobRecord:
    reply = await submit(nc, job)
    assert isinstance(reply, JobRecord), reply
    return reply


async def get_job(nc: Client, job_id: str) -> JobRecord:
    msg = await nc.request(subjects.TRAINING_JOB, encode(GetJob(job_id=job_id)), timeout=10)
    reply = decode(msg.data, JobReply)  # type: ignore[arg-type]
    assert isinstance(reply, JobRecord), reply
    return reply


async def read_record(nc: Client, job_id: str) -> JobRecord:
    """The job's record straight from KV `training`, as any client (or a gateway) can read it."""
    kv = await nc.jetstream().key_value(subjects.TRAINING_BUCKET)
    entry = await kv.get(f"{subjects.JOB_KEY_PREFIX}.{job_id}")
    return decode(entry.value or b"", JobRecord)


async def list_jobs(nc: Client) -> list[JobRecord]:
    msg = await nc.request(subjects.TRAINING_JOBS, encode(ListJobs()), timeout=10)
    reply = decode(msg.data, JobListReply)  # type: ignore[arg-type]
    assert isinstance(reply, JobList), reply
    return reply.jobs


async def cancel(nc: Client, job_id: str) -> JobReply:
    msg = await nc.request(subjects.train_cancel_subject(job_id), encode(CancelJob(job_id=job_id)), timeout=10)
    return decode(msg.data, JobReply)  # type: ignore[arg-type, no-any-return]


async def wait_for(
    nc: Client, job_id: str, states: tuple[JobState, ...] = FINISHED, timeout: float = 120.0, min_step: int = 0
) -> JobRecord:
    """Poll `svc.training.job` until the job is in one of `states` (and at `min_step` or later)."""
    deadline = time.monotonic() + timeout
    while True:
        record = await get_job(nc, job_id)
        if record.state in states and record.step >= min_step:
            return record
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} is {record.state.value} at step {record.step}, waited for {states}")
        await asyncio.sleep(0.1)


async def queue_empty(nc: Client, timeout: float = 10.0) -> bool:
    """Wait until stream TRAIN_JOBS holds no job message (every job ended and was acked)."""
    deadline = time.monotonic() + timeout
    while True:
        if (await nc.jetstream().stream_info(subjects.TRAIN_JOBS_STREAM)).state.messages == 0:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)


class ProgressLog:
    """Every `train.progress.<job_id>` message of one job, as it arrives."""

    def __init__(self) -> None:
        self.seen: list[Progress] = []

    @classmethod
    async def watch(cls, nc: Client, job_id: str) -> ProgressLog:
        log = cls()

        async def on_msg(msg: Any) -> None:
            log.seen.append(decode(msg.data, Progress))

        await nc.subscribe(subjects.train_progress_subject(job_id), cb=on_msg)
        await nc.flush()
        return log

    def steps(self) -> list[int]:
        """The step of every message that reported one (a later stage's message repeats the last loss)."""
        return [
            p.step
            for p in self.seen
            if p.state is JobState.RUNNING and p.loss is not None and p.stage in (None, TrainingStage.TRAINING)
        ]

    def states(self) -> list[JobState]:
        return [p.state for p in self.seen]
