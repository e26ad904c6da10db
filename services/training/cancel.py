"""`train.cancel.<job_id>`: cancel a queued job (it is skipped when fetched) or stop the one running here;
the reply is the job's record or an ErrorMessage."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
from nats.aio.msg import Msg

from messages import CancelJob, ErrorCode, ErrorMessage, GetJob, JobRecord, JobState, SwitchboardError, encode, subjects
from messages.training import FINISHED_STATES

from .fetch_loop import FetchLoop
from .jobs import CANCELLED_BY_USER
from .progress import publish_progress
from .queue import Positions
from .records import now_iso
from .requests import JobRequests, no_job
from .started import Started


class Cancels:
    """Answers `train.cancel.<job_id>` (subscribe `on_cancel`); `drain` waits for the replies under way."""

    def __init__(self, started: Started, fetch_loop: FetchLoop, jobs: JobRequests, positions: Positions) -> None:
        self._started = started
        self._log = started.log
        self._fetch_loop = fetch_loop
        self._jobs = jobs
        self._positions = positions
        self._replies: set[asyncio.Task[None]] = set()

    async def cancel(self, job_id: str, reason: str = CANCELLED_BY_USER) -> JobRecord:
        """Cancel a queued job (it is skipped when fetched) or stop the one running here.

        Raises SwitchboardError: NOT_FOUND for an unknown job, CONFLICT for one that has ended."""
        run = self._fetch_loop.running
        if run is not None and run.job_id == job_id:
            run.request_cancel(reason)
            return run.record or await self._jobs.get_job(GetJob(job_id=job_id))

        before: list[JobRecord] = []  # what the last attempt read

        def cancelled(record: JobRecord) -> JobRecord | None:
            before[:] = [record]
            if record.state is not JobState.QUEUED:
                return None
            return msgspec.structs.replace(
                record, state=JobState.CANCELLED, error=reason, finished=now_iso(), queue_position=None
            )

        stored = await self._started.store.change(job_id, cancelled)
        if stored is None:
            raise no_job(job_id)
        if before and before[0].state is JobState.QUEUED:
            self._log.info("queued job cancelled", extra={"job_id": job_id})
            await publish_progress(self._started.nc, stored)
            await self._positions.refresh()
            return stored
        if stored.state in FINISHED_STATES:
            raise SwitchboardError(
                ErrorCode.CONFLICT, f"job {job_id} has already {stored.state.value}; there is nothing to cancel"
            )
        run = self._fetch_loop.running  # it may have started while we looked
        if run is not None and run.job_id == job_id:
            run.request_cancel(reason)
        return stored  # running on another worker, which got the cancel too

    async def on_cancel(self, msg: Msg) -> None:
        """The subscription's callback: the body is an optional CancelJob (its reason is recorded)."""
        job_id = subjects.request_id_of(msg.subject)
        reason = CANCELLED_BY_USER
        with contextlib.suppress(msgspec.MsgspecError):
            if msg.data.strip():
                reason = msgspec.json.decode(msg.data, type=CancelJob).reason or reason
        task = asyncio.create_task(self._cancel_and_reply(msg, job_id, reason))
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)

    async def drain(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for the cancels under way."""
        if self._replies:
            await asyncio.wait(self._replies, timeout=timeout_s)

    async def _cancel_and_reply(self, msg: Msg, job_id: str, reason: str) -> None:
        try:
            reply: JobRecord | ErrorMessage = await self.cancel(job_id, reason)
        except SwitchboardError as exc:
            reply = exc.to_message()
        except Exception as exc:
            self._log.exception("cancel failed", extra={"job_id": job_id})
            reply = ErrorMessage(ErrorCode.INTERNAL, f"internal error: {exc}")
        if msg.reply:
            with contextlib.suppress(Exception):
                await msg.respond(encode(reply))
