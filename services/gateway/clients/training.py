"""Talking to the training service over NATS: submit, look up and cancel jobs, follow their progress."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import TypeVar

from nats.aio.client import Client

from messages import (
    FINISHED_STATES,
    CancelJob,
    ErrorCode,
    FineTuneSpec,
    ForgetJob,
    GetJob,
    JobList,
    JobRecord,
    ListJobs,
    Progress,
    SwitchboardError,
    decode,
    encode,
    subjects,
)
from services.runtime.call import TRAINING, call

PROGRESS_CHECK_S = 5.0  # a progress stream silent this long re-reads the job (the training service may be gone)
NO_TRAINER = TRAINING.absent
T = TypeVar("T")


class TrainingClient:
    def __init__(self, nc: Client, timeout_s: float) -> None:
        self._nc = nc
        self._timeout_s = timeout_s

    async def _call(self, subject: str, message: object, ok: type[T]) -> T:
        return await call(self._nc, subject, message, ok, timeout_s=self._timeout_s, peer=TRAINING)

    async def submit(self, spec: FineTuneSpec) -> JobRecord:
        return await self._call(subjects.TRAINING_SUBMIT, spec, JobRecord)

    async def job(self, job_id: str) -> JobRecord:
        return await self._call(subjects.TRAINING_JOB, GetJob(job_id=job_id), JobRecord)

    async def forget(self, job_id: str) -> JobRecord:
        return await self._call(subjects.TRAINING_FORGET, ForgetJob(job_id=job_id), JobRecord)

    async def jobs(self) -> list[JobRecord]:
        return (await self._call(subjects.TRAINING_JOBS, ListJobs(), JobList)).jobs

    async def cancel(self, job_id: str) -> JobRecord:
        record = await self.job(job_id)  # unknown ids are a clear error, not a silent publish
        if record.state in FINISHED_STATES:
            raise SwitchboardError(ErrorCode.CONFLICT, f"job {job_id} already {record.state.value}; nothing to cancel")
        await self._nc.publish(subjects.train_cancel_subject(job_id), encode(CancelJob(job_id=job_id)))
        return record

    async def progress(self, job_id: str) -> AsyncGenerator[Progress, None]:
        """The job's current state first (so a reloaded page picks up where it was), then every update
        until it finishes. Raises SwitchboardError as `job` does (BAD_REQUEST for an id that cannot be one,
        NOT_FOUND for an unknown one) before subscribing to anything."""
        await self.job(job_id)  # the training service checks the id: "../x" is never made into a subject
        sub = await self._nc.subscribe(subjects.train_progress_subject(job_id), pending_msgs_limit=-1)
        try:
            current = Progress.of(await self.job(job_id))  # read after subscribing: nothing falls between
            yield current
            if current.state in FINISHED_STATES:
                return
            last_step = current.step
            while True:
                try:
                    msg = await sub.next_msg(timeout=PROGRESS_CHECK_S)
                except TimeoutError:
                    # silence: re-read the record. A job whose worker was killed is marked failed by any
                    # training service once its heartbeat is stale; with none running, say so rather than wait
                    update = Progress.of(await self.job(job_id))
                    if update == current:
                        continue
                else:
                    update = decode(msg.data, Progress)
                if update.step < last_step and update.state == current.state:
                    continue  # older than the record we started from
                last_step = update.step
                current = update
                yield update
                if update.state in FINISHED_STATES:
                    return
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
