"""Job history lives in NATS, not in the service: it survives a restart of the training service, and a job
queued while no training service runs (as a gateway may queue it, with `submit_job`) runs once one starts."""

from __future__ import annotations

import logging
from pathlib import Path

from nats.aio.client import Client

from messages import JobState
from services.runtime import Settings
from services.training import JobStore, submit_job
from tests.support.training import get_job, list_jobs, registry, spec, submitted, trainer, training, wait_for


async def test_job_history_survives_a_restart(nc: Client, base_settings: Settings, bundled_model: Path) -> None:
    job = spec(num_samples=4, max_steps=1)
    async with training(nc, base_settings):
        await submitted(nc, job)
        before = await wait_for(nc, job.job_id, timeout=240)
        assert before.state is JobState.SUCCEEDED, before.error

    async with trainer(nc, base_settings):
        after = await get_job(nc, job.job_id)
        assert after == before  # every field: spec, state, steps, losses, adapter, timestamps
        assert len(after.loss_history) == 1 and after.adapter == job.adapter_name
        assert job.job_id in {record.spec.job_id for record in await list_jobs(nc)}


async def test_a_job_queued_while_no_trainer_runs_waits_for_one(
    nc: Client, base_settings: Settings, bundled_model: Path
) -> None:
    job = spec(num_samples=4, max_steps=1)
    async with trainer(nc, base_settings):
        pass  # the stream and the bucket are the training service's to create; then it is gone
    js = nc.jetstream()
    store = await JobStore.open(js, 3, logging.getLogger("test"))
    queued = await submit_job(nc, js, store, job)  # what a gateway does without asking `svc.training.submit`
    assert queued.state is JobState.QUEUED and queued.queue_position == 0

    async with registry(nc, base_settings):
        async with trainer(nc, base_settings):
            done = await wait_for(nc, job.job_id, timeout=240)
    assert done.state is JobState.SUCCEEDED, done.error
    assert done.adapter == job.adapter_name
