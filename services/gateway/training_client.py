"""Talking to the training service over NATS: submit, look up and cancel jobs, follow their progress."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from nats.aio.client import Client

from messages import (
    FINISHED_STATES,
    CancelJob,
    ErrorCode,
    FineTuneSpec,
    ForgetJob,
    GetJob,
    JobList,
    JobListReply,
    JobRecord,
    JobReply,
    ListJobs,
    Progress,
    SwitchboardError,
    decode,
    encode,
    subjects,
)

from .nats_request import request

PROGRESS_CHECK_S = 5.0  # a progress stream silent this long re-reads the job (the training service may be gone)
NO_TRAINER = "the training service is not running; start it with `python -m services.training` (`just up` does)"


class TrainingClient:
    def __init__(self, nc: Client, timeout_s: float) -> None:
        self._nc = nc
        self._timeout_s = timeout_s

    async def _call(self, subject: str, payload: bytes) -> bytes:
        return await request(
            self._nc, subject, payload, timeout_s=self._timeout_s, absent=NO_TRAINER, what="the training service"
        )

    async def submit(self, spec: FineTuneSpec) -> JobRecord:
        reply: JobReply = decode(await self._call(subjects.TRAINING_SUBMIT, encode(spec)), JobReply)  # type: ignore[arg-type]
        if isinstance(reply, JobRecord):
            return reply
        raise SwitchboardError.from_message(reply)

    async def job(self, job_id: str) -> JobRecord:
        reply: JobReply = decode(await self._call(subjects.TRAINING_JOB, encode(GetJob(job_id=job_id))), JobReply)  # type: ignore[arg-type]
        if isinstance(reply, JobRecord):
            return reply
        raise SwitchboardError.from_message(reply)

    async def forget(self, job_id: str) -> JobRecord:
        answer = await self._call(subjects.TRAINING_FORGET, encode(ForgetJob(job_id=job_id)))
        reply: JobReply = decode(answer, JobReply)  # type: ignore[arg-type]
        if isinstance(reply, JobRecord):
            return reply
        raise SwitchboardError.from_message(reply)

    async def jobs(self) -> list[JobRecord]:
        reply: JobListReply = decode(await self._call(subjects.TRAINING_JOBS, encode(ListJobs())), JobListReply)  # type: ignore[arg-type]
        if isinstance(reply, JobList):
            return reply.jobs
        raise SwitchboardError.from_message(reply)

    async def cancel(self, job_id: str) -> JobRecord:
        record = await self.job(job_id)  # unknown ids are a clear error, not a silent publish
        if record.state in FINISHED_STATES:
            raise SwitchboardError(ErrorCode.CONFLICT, f"job {job_id} already {record.state.value}; nothing to cancel")
        await self._nc.publish(subjects.train_cancel_subject(job_id), encode(CancelJob(job_id=job_id)))
        return record

    async def progress(self, job_id: str) -> AsyncIterator[Progress]:
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
