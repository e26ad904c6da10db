"""A running job says what it is doing: loading_data, loading_model, training, saving, in that order, on
`train.progress.<job_id>` and in its record in KV `training`; none while queued or once it ended."""

from __future__ import annotations

import asyncio
import contextlib
from itertools import groupby
from pathlib import Path

import msgspec
from nats.aio.client import Client

from messages import JobRecord, JobState, Progress, TrainingStage, decode, encode, subjects
from services.runtime import Settings
from services.training.records import job_key
from tests.support.training import ProgressLog, spec, submitted, training, wait_for

IN_ORDER = [TrainingStage.LOADING_DATA, TrainingStage.LOADING_MODEL, TrainingStage.TRAINING, TrainingStage.SAVING]


async def _watch_record(nc: Client, job_id: str, seen: list[JobRecord]) -> None:
    kv = await nc.jetstream().key_value(subjects.TRAINING_BUCKET)
    watcher = await kv.watch(job_key(job_id))
    try:
        async for entry in watcher:
            if entry is not None and entry.value:
                seen.append(decode(entry.value, JobRecord))
    finally:
        with contextlib.suppress(Exception):
            await watcher.stop()


async def test_a_job_goes_through_the_stages_in_order(nc: Client, base_settings: Settings, bundled_model: Path) -> None:
    async with training(nc, base_settings):
        job = spec(max_steps=2)
        progress = await ProgressLog.watch(nc, job.job_id)
        records: list[JobRecord] = []
        watching = asyncio.create_task(_watch_record(nc, job.job_id, records))
        try:
            await submitted(nc, job)
            done = await wait_for(nc, job.job_id, timeout=180)
            await asyncio.sleep(0.5)  # the last progress message and KV entry reach the watchers
        finally:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)

    assert done.state is JobState.SUCCEEDED, done.error
    assert done.stage is None  # an ended job is doing nothing

    published = [p.stage for p in progress.seen if p.stage is not None]
    assert [stage for stage, _ in groupby(published)] == IN_ORDER, progress.seen
    assert all(p.state is JobState.RUNNING for p in progress.seen if p.stage is not None)
    # each step is published while training; no loss before it (saving repeats the last one)
    assert progress.steps() == [1, 2]
    with_loss = {p.stage for p in progress.seen if p.loss is not None and p.state is JobState.RUNNING}
    assert with_loss == {TrainingStage.TRAINING, TrainingStage.SAVING}
    # the total is known from loading the data on: the model's loading already shows it
    loading_model = [p for p in progress.seen if p.stage is TrainingStage.LOADING_MODEL]
    assert loading_model and all(p.total_steps == 2 for p in loading_model)
    assert progress.seen[-1].state is JobState.SUCCEEDED and progress.seen[-1].stage is None

    stored = [r.stage for r in records if r.stage is not None]
    assert [stage for stage, _ in groupby(stored)] == IN_ORDER, [(r.state, r.stage, r.step) for r in records]
    assert records[-1].stage is None and records[-1].state is JobState.SUCCEEDED


def test_records_and_progress_from_before_stages_still_decode() -> None:
    record = msgspec.json.decode(encode(spec()), type=dict)
    old = {"type": "job", "spec": record, "state": "running", "created": "2026-01-31T12:00:00.000000Z"}
    assert decode(msgspec.json.encode(old), JobRecord).stage is None
    progress = {"job_id": "j", "state": "running", "step": 1, "total_steps": 2}
    assert decode(msgspec.json.encode(progress), Progress).stage is None
    with_stage = decode(msgspec.json.encode({**progress, "stage": "saving"}), Progress)
    assert with_stage.stage is TrainingStage.SAVING
