"""A job taken up again whose checkpoint cannot be read fails with that reason, and the queue moves on: a
checkpoint that is not one (garbage bytes), and one that is gone from Object Store `training-checkpoints`."""

from __future__ import annotations

import logging

import pytest
from nats.aio.client import Client

from messages import JobRecord, JobState, encode, subjects
from services.runtime import open_object_store
from services.training import JobStore
from services.training.records import now_iso
from tests.support.training import queue_empty, spec, trainer, wait_for


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        (b"not a checkpoint", "the job's checkpoint cannot be read: "),
        (None, "the job's checkpoint at step 2 cannot be read"),
    ],
)
async def test_an_unreadable_checkpoint_fails_the_job_with_that_reason(
    nc: Client, base_settings: object, bundled_model: object, stored: bytes | None, words: str
) -> None:
    js = nc.jetstream()
    async with trainer(nc, base_settings):  # type: ignore[arg-type]
        log = logging.getLogger("test")
        store = await JobStore.open(js, 3, log)
        checkpoints = await open_object_store(js, subjects.CHECKPOINTS_BUCKET, "test", log)
        job = spec(num_samples=8, max_steps=6)
        # as a dead worker's job is left: queued again, naming a checkpoint at step 2
        record = JobRecord(spec=job, state=JobState.QUEUED, created=now_iso(), step=2, checkpoint_step=2, resumes=1)
        await store.create(record)
        if stored is not None:
            await checkpoints.put(job.job_id, stored)
        await js.publish(subjects.TRAIN_JOBS, encode(job), stream=subjects.TRAIN_JOBS_STREAM)
        done = await wait_for(nc, job.job_id, timeout=180)
    assert done.state is JobState.FAILED, done
    assert (done.error is not None and words in done.error and "step 2" in done.error) or "checkpoint" in (
        done.error or ""
    )
    assert await queue_empty(nc, timeout=10)
