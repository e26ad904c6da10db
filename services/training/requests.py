"""The job endpoints: `svc.training.submit` (check and queue a job), `.jobs`, `.job` and `.forget`."""

from __future__ import annotations

import asyncio

from messages import (
    ErrorCode,
    FineTuneSpec,
    ForgetJob,
    GetJob,
    JobList,
    JobRecord,
    JobState,
    ListJobs,
    SwitchboardError,
)
from messages.training import FINISHED_STATES

from .hub_check import check_hub_dataset
from .orphans import Orphans
from .queue import Positions, pending_job_ids
from .records import age_s
from .sources import DATASET_FIELD, SourceKind
from .started import Started
from .submit import submit_job
from .trainer import VALIDATION_FIELD
from .validate import check_name_free, check_not_training, check_spec_fields, find_dataset


class JobRequests:
    """Answers the job endpoints. `submitting` is held while a job is queued (deleting a dataset takes it too)."""

    def __init__(
        self,
        started: Started,
        orphans: Orphans,
        positions: Positions,
        submitting: asyncio.Lock,
        stopping: asyncio.Event,
    ) -> None:
        self._started = started
        self._log = started.log
        self._orphans = orphans
        self._positions = positions
        self._submitting = submitting
        self._stopping = stopping

    async def submit(self, spec: FineTuneSpec) -> JobRecord:
        """Validate, queue, and answer with the queued record (its queue position filled in)."""
        started = self._started
        config = started.config
        if self._stopping.is_set():
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "the training service is shutting down; try again")
        check_spec_fields(spec)
        await check_name_free(started.js, spec.adapter_name)
        named = [(spec.dataset, DATASET_FIELD)]
        if spec.validation_dataset is not None:
            named.append((spec.validation_dataset, VALIDATION_FIELD))
        uploaded = set()
        for name, field in named:
            source = await find_dataset(name, config, started.datasets, field)
            if source.kind is SourceKind.UPLOADED:
                uploaded.add(name)
            elif source.kind is SourceKind.HUB:
                try:
                    await asyncio.to_thread(
                        check_hub_dataset, source.location, started.settings.hf_token, config.hub_endpoint
                    )
                except SwitchboardError as exc:
                    raise SwitchboardError(exc.code, exc.message, field) from None
        async with self._submitting:  # one submitter at a time here, so queue order and positions agree
            for name, field in named:  # deleteDataset takes this lock too: an uploaded dataset is still there
                if name in uploaded and await started.datasets.get(name) is None:
                    raise SwitchboardError(ErrorCode.NOT_FOUND, f"names a dataset deleted just now ({name!r})", field)
            pending = [r for job_id in await pending_job_ids(started.js) if (r := await started.store.get(job_id))]
            check_not_training(spec.adapter_name, pending)
            record = await submit_job(started.nc, started.js, started.store, spec)
        self._log.info(
            "job queued", extra={"job_id": spec.job_id, "adapter": spec.adapter_name, "dataset": spec.dataset}
        )
        await self._positions.refresh()  # tells watchers if its position changed meanwhile
        return await started.store.get(spec.job_id) or record

    async def list_jobs(self, request: ListJobs) -> JobList:
        return JobList(jobs=await self._started.store.all())

    async def get_job(self, request: GetJob) -> JobRecord:
        """The job's record. A "running" job whose heartbeat stopped (its worker was killed) is marked failed
        first, so whoever asks learns it within `stale_after_s`, not when the queue redelivers it."""
        store = self._started.store
        record = await store.get(request.job_id)
        if record is None:
            raise no_job(request.job_id)
        if record.state is JobState.RUNNING and age_s(record.heartbeat) > self._started.config.stale_after_s:
            await self._orphans.take_up(record)
            record = await store.get(request.job_id) or record
        return record

    async def forget(self, request: ForgetJob) -> JobRecord:
        """Drop a finished job's record (its adapter, if any, stays registered); returns what was dropped."""
        record = await self._started.store.forget(request.job_id, FINISHED_STATES)
        if record is None:
            raise no_job(request.job_id)
        self._log.info("job forgotten", extra={"job_id": request.job_id, "state": record.state.value})
        return record


def no_job(job_id: str) -> SwitchboardError:
    """NOT_FOUND about field `job_id`."""
    return SwitchboardError(ErrorCode.NOT_FOUND, f"names no job ({job_id!r})", "job_id")
