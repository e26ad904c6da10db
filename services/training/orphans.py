"""Jobs whose worker died: a record left "running" by a worker that is gone goes back to the queue, to
resume from its last checkpoint; it is failed instead once it has stopped its worker `MAX_RESUMES` times,
or when its queue message is unknown."""

from __future__ import annotations

import contextlib

import msgspec

from messages import GpuHandoff, JobRecord, JobState

from .gpu import reclaim_gpu, this_host
from .liveness import live_workers
from .progress import publish_progress
from .records import age_s, now_iso
from .started import Started

# what a job's record says, for people: which worker it was (an internal id) is in the training service's log
STOPPED_HERE = "the training service stopped during this job"
ORPHANED = f"{STOPPED_HERE}; submit it again"
GAVE_UP = "the training service stopped during this job {times} times, so it is not taken up again; submit it again"
MAX_RESUMES = 3  # a job whose worker died this many times is failed, not taken up again (a crash loop)


class Orphans:
    """Finds running jobs whose worker is gone and takes them up again (see `take_up`)."""

    def __init__(self, started: Started) -> None:
        self._started = started

    async def recover(self) -> None:
        """At start: take up the jobs left "running" by a worker that is gone (none runs here yet)."""
        running = [r for r in await self._started.store.all() if r.state is JobState.RUNNING]
        if not running:
            return
        alive = await live_workers(self._started.nc)
        for record in running:
            if await self.orphaned(record, None, alive):
                await self.take_up(record)

    async def orphaned(self, record: JobRecord, running_here: str | None, alive: set[str] | None = None) -> bool:
        """Whether `record`'s worker is gone: an earlier life of this worker id (`running_here` is the job
        this worker runs now, if any), a stale heartbeat, or a worker that does not answer a ping (`alive`:
        the worker ids that answered, asked here when not given)."""
        if record.worker_id == self._started.settings.worker_id:  # an earlier life of this worker id
            return running_here != record.spec.job_id
        if age_s(record.heartbeat) > self._started.config.stale_after_s:
            return True
        if alive is None:
            alive = await live_workers(self._started.nc)
        return record.worker_id not in alive

    async def take_up(self, record: JobRecord, nak: bool = True) -> bool:
        """A running job whose worker is gone goes back to the queue, to resume from its last checkpoint;
        True when it did. After MAX_RESUMES it is failed instead (and its message ended).

        With `nak`, its message is handed back to JetStream at once (else it waits out TRAIN_ACK_WAIT_S).
        """
        worker = record.worker_id or "unknown"
        why = None
        if record.resumes >= MAX_RESUMES:
            why = GAVE_UP.format(times=record.resumes + 1)
        elif not record.ack_subject:  # its queue message is unknown: nothing would take it up again
            why = ORPHANED

        def changed(stored: JobRecord) -> JobRecord | None:
            if stored.state is not JobState.RUNNING or stored.worker_id != record.worker_id:
                return None
            if why is not None:
                return msgspec.structs.replace(
                    stored, state=JobState.FAILED, error=why, finished=now_iso(), ack_subject=None, stage=None
                )
            return msgspec.structs.replace(
                stored,
                state=JobState.QUEUED,
                stage=None,
                worker_id=None,
                heartbeat=None,
                resumes=stored.resumes + 1,
                error=f"{STOPPED_HERE}; taken up again from step {stored.checkpoint_step or 0}",
            )

        nc, log = self._started.nc, self._started.log
        stored = await self._started.store.change(record.spec.job_id, changed)
        if stored is None or stored.state is JobState.RUNNING or (stored.resumes == record.resumes and why is None):
            return False
        extra = {"job_id": record.spec.job_id, "worker": worker, "checkpoint_step": record.checkpoint_step}
        if why is None:
            log.warning("orphaned job taken up again", extra=extra)
        else:
            log.warning("orphaned job failed: it stopped its worker too often", extra=extra)
        await publish_progress(nc, stored)
        if record.ack_subject:  # hand its message back now, so the queue does not wait out the ack timeout
            if why is not None:
                with contextlib.suppress(Exception):
                    await nc.publish(record.ack_subject, b"+TERM")
            elif nak:
                with contextlib.suppress(Exception):
                    await nc.publish(record.ack_subject, b"-NAK")
        if record.device == "cuda":
            handoff = GpuHandoff(host=record.host or this_host(), job_id=record.spec.job_id)
            await reclaim_gpu(nc, handoff, self._started.config.gpu_timeout_s, log)
        return why is None
