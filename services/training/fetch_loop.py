"""Pulling jobs from stream TRAIN_JOBS one at a time and running each on this worker: what a fetched
message means (a job to run, one to skip, an orphan to take up again), and handing the running job back
when the service stops."""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError

from messages import FineTuneSpec, JobRecord, JobState, SwitchboardError, decode

from .jobs import JobRun
from .orphans import Orphans
from .queue import Positions
from .records import JobExists, now_iso
from .started import Started


class FetchLoop:
    """Fetches job messages through the shared pull consumer and runs them; `running` is the job run here."""

    def __init__(self, started: Started, orphans: Orphans, positions: Positions, stopping: asyncio.Event) -> None:
        self._started = started
        self._log = started.log
        self._orphans = orphans
        self._positions = positions
        self._stopping = stopping  # set when the service stops: fetch no more
        self._run: JobRun | None = None
        self._run_task: asyncio.Task[None] | None = None

    @property
    def running(self) -> JobRun | None:
        """The job running on this worker now, if any."""
        return self._run

    async def loop(self) -> None:
        """Fetch and run jobs until the service stops; a fetched message is handed back when it does."""
        while not self._stopping.is_set():
            try:
                msgs = await self._started.pull.fetch(1, timeout=self._started.config.fetch_timeout_s)
            except NatsTimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._log.warning("fetching jobs failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                if self._stopping.is_set():
                    with contextlib.suppress(Exception):
                        await msg.nak()  # for the next worker, at once
                    return
                try:
                    await self._take(msg)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self._log.exception("job message handling failed; it is redelivered later")

    async def hand_back(self, grace_s: float) -> None:
        """The service stops (the loop is stopped first): the running job saves a checkpoint and goes back to
        the queue for the next worker (see `JobRun.request_hand_back`); after `grace_s` it is recorded as it
        is, and its training thread dies with the process."""
        run, run_task = self._run, self._run_task
        if run is None or run_task is None or run_task.done():
            return
        self._log.info("stopping the running job", extra={"job_id": run.job_id})
        run.request_hand_back()
        await asyncio.wait({run_task}, timeout=grace_s)
        if not run_task.done():  # stuck in a long load: record it now, the daemon thread dies with us
            run_task.cancel()
            await asyncio.wait({run_task}, timeout=10)

    async def _take(self, msg: Msg) -> None:
        """Decide what a fetched job message means, and run the job if it is waiting."""
        store = self._started.store
        try:
            spec = decode(msg.data, FineTuneSpec)
        except SwitchboardError as exc:
            self._log.warning("not a job spec: dropped", extra={"error": str(exc)})
            await msg.term()
            return
        record = await store.get(spec.job_id)
        if record is None:  # published without a record (e.g. `nats pub train.jobs`): record it now
            with contextlib.suppress(JobExists):
                await store.create(JobRecord(spec=spec, state=JobState.QUEUED, created=now_iso()))
            record = await store.get(spec.job_id)
        if record is None or record.state not in (JobState.QUEUED, JobState.RUNNING):
            state = record.state.value if record else "unknown"
            self._log.info("job skipped", extra={"job_id": spec.job_id, "state": state})
            await msg.ack()
            await self._positions.refresh()
            return
        if record.state is JobState.RUNNING:  # redelivered: its worker died, or lost touch for a while
            running_here = self._run.job_id if self._run is not None else None
            if await self._orphans.orphaned(record, running_here):
                if await self._orphans.take_up(record, nak=False):
                    await self._run_job(msg, spec)  # from its last checkpoint
                    return
                await msg.term()
                await self._positions.refresh()
            else:
                self._log.info("job still running on another worker", extra={"job_id": spec.job_id})
                await msg.nak(delay=self._started.config.stale_after_s)
            return
        await self._run_job(msg, spec)

    async def _run_job(self, msg: Msg, spec: FineTuneSpec) -> None:
        started = self._started
        run = JobRun(
            msg,
            spec,
            nc=started.nc,
            js=started.js,
            store=started.store,
            settings=started.settings,
            config=started.config,
            log=started.log,
            datasets=started.datasets,
            checkpoints=started.checkpoints,
            on_started=self._positions.refresh,
        )
        self._run = run
        task = asyncio.create_task(self._run_and_report(run))
        self._run_task = task
        try:
            await asyncio.wait({task})  # not cancelled with the fetch loop: stop() ends it visibly
        finally:
            if task.done():
                self._run, self._run_task = None, None

    async def _run_and_report(self, run: JobRun) -> None:
        try:
            await run.run()
        finally:
            with contextlib.suppress(Exception):
                await self._positions.refresh()
