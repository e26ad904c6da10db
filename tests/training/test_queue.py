"""One job at a time: a second job waits in order with its queue position, then runs; cancel stops a
running job within a step or two and makes a queued one be skipped."""

from __future__ import annotations

from nats.aio.client import Client

from messages import ErrorCode, ErrorMessage, JobRecord, JobState, subjects
from services.training import TrainingActor
from tests.support.training import (  # noqa: F401 - service is a fixture
    ProgressLog,
    cancel,
    get_job,
    queue_empty,
    spec,
    submitted,
    training,
    wait_for,
)


async def test_a_second_job_waits_then_runs(nc: Client, training_service: TrainingActor) -> None:
    first, second = spec(max_steps=3), spec(max_steps=2)
    await submitted(nc, first)
    await wait_for(nc, first.job_id, (JobState.RUNNING,), timeout=180)
    second_progress = await ProgressLog.watch(nc, second.job_id)
    waiting = await submitted(nc, second)
    assert waiting.state is JobState.QUEUED
    assert waiting.queue_position == 1  # the running job is ahead of it

    still = await get_job(nc, second.job_id)
    assert still.state is JobState.QUEUED and still.started is None

    done_first = await wait_for(nc, first.job_id, timeout=180)
    done_second = await wait_for(nc, second.job_id, timeout=180)
    assert done_first.state is JobState.SUCCEEDED, done_first.error
    assert done_second.state is JobState.SUCCEEDED, done_second.error
    assert done_first.finished is not None and done_second.started is not None
    assert done_first.finished <= done_second.started  # strictly one after the other
    assert done_second.queue_position is None
    # its watchers saw it wait, then run, then succeed
    states = second_progress.states()
    assert states[0] is JobState.QUEUED and states[-1] is JobState.SUCCEEDED
    assert states.index(JobState.QUEUED) < states.index(JobState.RUNNING)


async def test_cancel_stops_a_running_job_within_a_few_steps(nc: Client, training_service: TrainingActor) -> None:
    job = spec(num_samples=16, num_epochs=100.0, max_steps=300)
    await submitted(nc, job)
    running = await wait_for(nc, job.job_id, (JobState.RUNNING,), timeout=180, min_step=1)
    reply = await cancel(nc, job.job_id)
    assert isinstance(reply, JobRecord) and reply.spec.job_id == job.job_id

    done = await wait_for(nc, job.job_id, timeout=180)
    assert done.state is JobState.CANCELLED
    assert done.error == "cancelled by user; the partial adapter was discarded"
    assert done.total_steps == 300
    assert done.step <= running.step + 3  # the cancel lands within a step (plus the polling delay)
    assert done.adapter is None
    assert len(done.loss_history) == done.step
    # nothing was registered or uploaded for it
    store = await nc.jetstream().object_store(subjects.ADAPTER_FILES_BUCKET)
    assert job.adapter_name not in {info.name for info in await _objects(store)}


async def test_a_cancelled_queued_job_is_skipped(nc: Client, training_service: TrainingActor) -> None:
    blocker, waiting = spec(num_samples=16, num_epochs=100.0, max_steps=300), spec(max_steps=2)
    await submitted(nc, blocker)
    await wait_for(nc, blocker.job_id, (JobState.RUNNING,), timeout=180)
    queued = await submitted(nc, waiting)
    assert queued.state is JobState.QUEUED and queued.queue_position == 1

    reply = await cancel(nc, waiting.job_id)
    assert isinstance(reply, JobRecord)
    assert reply.state is JobState.CANCELLED and reply.queue_position is None

    await cancel(nc, blocker.job_id)
    assert (await wait_for(nc, blocker.job_id, timeout=180)).state is JobState.CANCELLED
    # the queue moves on past the cancelled job without running it
    assert await queue_empty(nc, timeout=30)
    skipped = await get_job(nc, waiting.job_id)
    assert skipped.state is JobState.CANCELLED and skipped.started is None and skipped.step == 0


async def test_cancel_of_an_unknown_or_finished_job_is_a_clear_error(
    nc: Client, training_service: TrainingActor
) -> None:
    reply = await cancel(nc, "no-such-job")
    assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.NOT_FOUND
    assert "no-such-job" in reply.message

    job = spec(max_steps=1, num_samples=4)
    await submitted(nc, job)
    assert (await wait_for(nc, job.job_id, timeout=240)).state is JobState.SUCCEEDED
    reply = await cancel(nc, job.job_id)
    assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.CONFLICT
    assert "already succeeded" in reply.message


async def _objects(store):  # type: ignore[no-untyped-def]
    from nats.js.errors import NotFoundError

    try:
        return await store.list()
    except NotFoundError:
        return []
