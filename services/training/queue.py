"""The job queue as stream TRAIN_JOBS holds it: which jobs wait, in order, and their queue positions
(`Positions` keeps them current in the records and tells watchers)."""

from __future__ import annotations

import asyncio
import functools
import logging

import msgspec
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from messages import JobRecord, JobState, SwitchboardError, subjects

from .progress import publish_progress
from .records import JobStore

MAX_SCAN = 10_000  # job messages read at most when working out positions


class _JobId(msgspec.Struct):
    job_id: str


async def pending_job_ids(js: JetStreamContext) -> list[str]:
    """The job ids of the messages still in the work queue, oldest first (the running job's is first).

    Work-queue retention removes a message once it is acked, so what is left is the queue.
    """
    info = await js.stream_info(subjects.TRAIN_JOBS_STREAM)
    seq = info.state.first_seq
    found: list[str] = []
    while len(found) < MAX_SCAN and info.state.messages and seq <= info.state.last_seq:
        try:
            raw = await js.get_msg(subjects.TRAIN_JOBS_STREAM, seq=seq, subject=subjects.TRAIN_JOBS, next=True)
        except NotFoundError:
            break
        seq = (raw.seq or seq) + 1
        try:
            found.append(msgspec.json.decode(raw.data or b"", type=_JobId).job_id)
        except msgspec.MsgspecError:
            continue  # not a job spec; the trainer terminates it when it gets there
    return found


def positions(order: list[str], records: dict[str, JobRecord]) -> dict[str, int]:
    """Each queued job's position: how many running or queued jobs are ahead of it."""
    ahead = 0
    result: dict[str, int] = {}
    for job_id in order:
        record = records.get(job_id)
        if record is None or record.state not in (JobState.QUEUED, JobState.RUNNING):
            continue  # finished or cancelled while waiting: it is skipped when fetched
        if record.state is JobState.QUEUED:
            result[job_id] = ahead
        ahead += 1
    return result


async def refresh_positions(js: JetStreamContext, store: JobStore) -> list[JobRecord]:
    """Write every queued job's current position into its record; returns the records that changed."""
    order = await pending_job_ids(js)
    records = {job_id: record for job_id in order if (record := await store.get(job_id)) is not None}
    changed: list[JobRecord] = []
    for job_id, position in positions(order, records).items():
        if records[job_id].queue_position != position:
            stored = await store.change(job_id, functools.partial(_placed, position=position))
            if stored is not None and stored.state is JobState.QUEUED:
                changed.append(stored)
    return changed


class Positions:
    """Refreshes queued jobs' positions (one refresh at a time on this worker) and publishes each change on
    `train.progress.<job_id>`."""

    def __init__(self, nc: Client, js: JetStreamContext, store: JobStore, log: logging.Logger) -> None:
        self._nc = nc
        self._js = js
        self._store = store
        self._log = log
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Never raises for NATS trouble: the positions are then logged as not updated."""
        async with self._lock:
            try:
                changed = await refresh_positions(self._js, self._store)
            except (NatsError, SwitchboardError) as exc:
                self._log.warning("queue positions not updated", extra={"error": repr(exc)})
                return
        for record in changed:
            await publish_progress(self._nc, record)


def _placed(record: JobRecord, position: int) -> JobRecord | None:
    if record.state is not JobState.QUEUED:
        return None
    return msgspec.structs.replace(record, queue_position=position)


async def jobs_ahead(js: JetStreamContext, store: JobStore) -> int:
    """How many running or queued jobs wait in the queue now (the position a job submitted now gets)."""
    order = await pending_job_ids(js)
    records = {job_id: record for job_id in order if (record := await store.get(job_id)) is not None}
    return sum(1 for r in records.values() if r.state in (JobState.QUEUED, JobState.RUNNING))
