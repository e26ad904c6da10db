"""KV `training`: one record per job (`job.<job_id>`), created once, changed with revision checks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from messages import ErrorCode, JobRecord, JobState, SwitchboardError, decode, encode, subjects
from services.runtime import open_key_value

# how JetStream lays out a KV bucket (the same in every client)
KV_STREAM = f"KV_{subjects.TRAINING_BUCKET}"
KV_SUBJECT_PREFIX = f"$KV.{subjects.TRAINING_BUCKET}."
JOB_SUBJECTS = f"{KV_SUBJECT_PREFIX}{subjects.JOB_KEY_PREFIX}.>"
WRITE_RETRIES = 20

Change = Callable[[JobRecord], JobRecord | None]


def job_key(job_id: str) -> str:
    """The key in KV `training` that holds the record of job `job_id`."""
    return f"{subjects.JOB_KEY_PREFIX}.{job_id}"


def now_iso() -> str:
    """ISO-8601 UTC with microseconds and a `Z`: sorts in time order, also within one second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def age_s(stamp: str | None) -> float:
    """Seconds since `stamp` (an ISO timestamp); infinite when missing or unreadable."""
    if not stamp:
        return float("inf")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return float("inf")
    return (datetime.now(UTC) - moment).total_seconds()


class JobExists(Exception):
    """A record with that job id exists already."""


class JobStore:
    """Reads and writes job records. Every change re-reads and retries when another writer got there first."""

    def __init__(self, kv: KeyValue, js: JetStreamContext, log: logging.Logger) -> None:
        self.kv = kv
        self._js = js
        self._log = log

    @classmethod
    async def open(cls, js: JetStreamContext, history: int, log: logging.Logger, replicas: int = 1) -> JobStore:
        """Create bucket `training` unless it exists (file storage, `replicas` copies)."""
        kv = await open_key_value(
            js,
            subjects.TRAINING_BUCKET,
            "job.<job_id>: a fine-tune job's record (spec, state, steps, losses, error, adapter)",
            history,
            log,
            replicas=replicas,
        )
        return cls(kv, js, log)

    async def get(self, job_id: str) -> JobRecord | None:
        found = await self._read(job_id)
        return found[0] if found else None

    async def create(self, record: JobRecord) -> int:
        """Store a new job's record; raises `JobExists` when the job id is taken. Returns the revision."""
        try:
            return await self.kv.create(job_key(record.spec.job_id), encode(record))
        except KeyWrongLastSequenceError as exc:
            raise JobExists(record.spec.job_id) from exc

    async def change(self, job_id: str, change: Change) -> JobRecord | None:
        """Apply `change` to the stored record and write it if it is still at the revision read.

        `change` returns the new record, or None to leave it as it is. Returns what is stored afterwards
        (None: no such job).
        """
        for _ in range(WRITE_RETRIES):
            found = await self._read(job_id)
            if found is None:
                return None
            record, revision = found
            new = change(record)
            if new is None or new == record:
                return record
            try:
                await self.kv.update(job_key(job_id), encode(new), last=revision)
                return new
            except KeyWrongLastSequenceError:
                await asyncio.sleep(0.005)
        raise SwitchboardError(ErrorCode.BUSY, f"the record of job {job_id} kept changing; try again")

    async def forget(self, job_id: str, finished: Collection[JobState]) -> JobRecord | None:
        """Delete a job's record if its state is in `finished`, else raise `conflict`; None: no such job.

        The delete names the revision read, so a record that changed meanwhile is read again first.
        """
        for _ in range(WRITE_RETRIES):
            found = await self._read(job_id)
            if found is None:
                return None
            record, revision = found
            if record.state not in finished:
                raise SwitchboardError(
                    ErrorCode.CONFLICT,
                    f"job {job_id} is {record.state.value}; cancel it first, only finished jobs leave the history",
                )
            try:
                await self.kv.delete(job_key(job_id), last=revision)
                return record
            except KeyWrongLastSequenceError:
                await asyncio.sleep(0.005)
        raise SwitchboardError(ErrorCode.BUSY, f"the record of job {job_id} kept changing; try again")

    async def all(self) -> list[JobRecord]:
        """Every job's record, newest first; an unreadable one is logged and left out."""
        info = await self._js.stream_info(KV_STREAM, subjects_filter=JOB_SUBJECTS)
        ids = [
            subject[len(KV_SUBJECT_PREFIX) + len(subjects.JOB_KEY_PREFIX) + 1 :]
            for subject in info.state.subjects or {}
        ]
        found = await asyncio.gather(*(self._read(job_id) for job_id in ids))
        records = [item[0] for item in found if item is not None]
        return sorted(records, key=lambda record: (record.created, record.spec.job_id), reverse=True)

    async def _read(self, job_id: str) -> tuple[JobRecord, int] | None:
        try:
            entry = await self.kv.get(job_key(job_id))
        except KeyNotFoundError:  # also a deleted or purged key
            return None
        try:
            return decode(entry.value or b"", JobRecord), entry.revision or 0
        except SwitchboardError as exc:
            self._log.warning("unreadable job record left out", extra={"job_id": job_id, "error": str(exc)})
            return None
