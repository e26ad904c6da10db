"""Dropping finished jobs from the history (`svc.training.forget`): only finished ones, and the adapter stays."""

from __future__ import annotations

from nats.aio.client import Client

from messages import ErrorCode, ErrorMessage, ForgetJob, JobRecord, JobReply, JobState, decode, encode, subjects
from services.training import TrainingActor
from tests.support.training import cancel, list_jobs, spec, submitted, wait_for


async def forget(nc: Client, job_id: str) -> JobReply:
    msg = await nc.request(subjects.TRAINING_FORGET, encode(ForgetJob(job_id=job_id)), timeout=10)
    return decode(msg.data, JobReply)  # type: ignore[arg-type, no-any-return]


async def test_only_finished_jobs_leave_the_history(nc: Client, training_service: TrainingActor) -> None:
    running, queued = spec(max_steps=400), spec(max_steps=2)
    await submitted(nc, running)
    await wait_for(nc, running.job_id, (JobState.RUNNING,), timeout=180)
    await submitted(nc, queued)

    # running or queued: refused, and still listed
    for job in (running, queued):
        refused = await forget(nc, job.job_id)
        assert isinstance(refused, ErrorMessage) and refused.code is ErrorCode.CONFLICT, refused
        assert "cancel it first" in refused.message
    assert {running.job_id, queued.job_id} <= {r.spec.job_id for r in await list_jobs(nc)}

    # cancelled (finished): forgotten, gone from the list, a second time is not found
    await cancel(nc, queued.job_id)
    await wait_for(nc, queued.job_id, timeout=60)
    dropped = await forget(nc, queued.job_id)
    assert isinstance(dropped, JobRecord) and dropped.state is JobState.CANCELLED
    assert queued.job_id not in {r.spec.job_id for r in await list_jobs(nc)}
    again = await forget(nc, queued.job_id)
    assert isinstance(again, ErrorMessage) and again.code is ErrorCode.NOT_FOUND

    await cancel(nc, running.job_id)
    done = await wait_for(nc, running.job_id, timeout=120)
    assert done.state is JobState.CANCELLED
    assert isinstance(await forget(nc, running.job_id), JobRecord)


async def test_a_succeeded_jobs_adapter_stays_registered(nc: Client, training_service: TrainingActor) -> None:
    job = spec(max_steps=2)
    await submitted(nc, job)
    done = await wait_for(nc, job.job_id, timeout=180)
    assert done.state is JobState.SUCCEEDED, done.error
    assert isinstance(await forget(nc, job.job_id), JobRecord)
    listed = await nc.request(subjects.ADAPTERS_LIST, b"", timeout=10)
    assert job.adapter_name.encode() in listed.data


async def test_bad_and_unknown_ids(nc: Client, training_service: TrainingActor) -> None:
    unknown = await forget(nc, "0123456789abcdef")
    assert isinstance(unknown, ErrorMessage) and unknown.code is ErrorCode.NOT_FOUND
    msg = await nc.request(subjects.TRAINING_FORGET, b'{"job_id": "../x"}', timeout=10)
    bad = decode(msg.data, JobReply)  # type: ignore[arg-type]
    assert isinstance(bad, ErrorMessage) and bad.code is ErrorCode.BAD_REQUEST
