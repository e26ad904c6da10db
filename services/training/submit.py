"""Submitting a job: write its queued record into KV `training`, tell `train.progress.<job_id>`, then
publish its spec on `train.jobs`.

This is all a submitter does; a gateway may do the same itself (the record first, so the trainer always
finds one; "queued" progress before the job can start, so watchers see the states in order; the job id
as `Nats-Msg-Id`, so a retried publish is not queued twice) or ask `svc.training.submit`, which also
validates the spec first.
"""

from __future__ import annotations

import msgspec
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from messages import ErrorCode, FineTuneSpec, JobRecord, JobState, SwitchboardError, encode, subjects

from .progress import publish_progress
from .queue import jobs_ahead
from .records import JobExists, JobStore, now_iso


async def submit_job(nc: Client, js: JetStreamContext, store: JobStore, spec: FineTuneSpec) -> JobRecord:
    """Queue `spec`; returns its record. Raises `conflict` for a used job id, `unavailable` when not queued."""
    record = JobRecord(spec=spec, state=JobState.QUEUED, created=now_iso(), queue_position=await jobs_ahead(js, store))
    try:
        await store.create(record)
    except JobExists as exc:
        raise SwitchboardError(
            ErrorCode.CONFLICT, f"is taken: a job with id {spec.job_id!r} exists already", "job_id"
        ) from exc
    await publish_progress(nc, record)
    try:
        await js.publish(
            subjects.TRAIN_JOBS,
            encode(spec),
            stream=subjects.TRAIN_JOBS_STREAM,
            headers={"Nats-Msg-Id": spec.job_id},
        )
    except (NatsError, TimeoutError) as exc:
        why = f"the job could not be queued on {subjects.TRAIN_JOBS!r}: {exc or type(exc).__name__}"
        await store.change(spec.job_id, lambda r: _not_queued(r, why))
        raise SwitchboardError(ErrorCode.UNAVAILABLE, why) from exc
    return record


def _not_queued(record: JobRecord, why: str) -> JobRecord:
    return msgspec.structs.replace(record, state=JobState.FAILED, error=why, finished=now_iso(), queue_position=None)
