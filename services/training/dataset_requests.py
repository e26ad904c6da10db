"""The dataset endpoints: `svc.training.datasets.add` (check an upload and store it), `.list`, `.get`, `.delete`."""

from __future__ import annotations

import asyncio
from typing import Any

from messages import (
    AddDataset,
    DatasetInfo,
    DatasetList,
    ErrorCode,
    GetDataset,
    JobState,
    ListDatasets,
    SwitchboardError,
)
from services.runtime import resolve_model

from .datasets import check_upload
from .started import Started


class DatasetRequests:
    """Answers the dataset endpoints. `submitting` is the job endpoints' lock: a dataset is deleted under it."""

    def __init__(self, started: Started, submitting: asyncio.Lock) -> None:
        self._started = started
        self._log = started.log
        self._submitting = submitting
        self._tokenizer: Any = None
        self._tokenizer_lock = asyncio.Lock()

    async def add(self, request: AddDataset) -> DatasetInfo:
        """Check an upload and store it as a dataset (see `datasets.DatasetStore.add`)."""
        tokenizer, base_model = await self._tokenizer_and_model()
        max_bytes = self._started.config.dataset_max_bytes

        def check(data: bytes) -> DatasetInfo:
            return check_upload(request.name, data, tokenizer, base_model, max_bytes)

        info = await self._started.datasets.add(request, check, max_bytes)
        extra = {"dataset": info.name, "format": info.format, "rows": info.rows, "tokens": info.tokens}
        self._log.info("dataset added", extra=extra)
        return info

    async def list_all(self, request: ListDatasets) -> DatasetList:
        return DatasetList(datasets=await self._started.datasets.all())

    async def get(self, request: GetDataset) -> DatasetInfo:
        info = await self._started.datasets.get(request.name)
        if info is None:
            raise _no_dataset(request.name)
        return info

    async def delete(self, request: GetDataset) -> DatasetInfo:
        """Remove a dataset no queued or running job reads (under the submit lock: a job submitted to this
        worker at the same moment either sees the dataset gone or keeps it)."""
        async with self._submitting:
            return await self._delete(request)

    async def _delete(self, request: GetDataset) -> DatasetInfo:
        for record in await self._started.store.all():
            names = (record.spec.dataset, record.spec.validation_dataset)
            if record.state in (JobState.QUEUED, JobState.RUNNING) and request.name in names:
                raise SwitchboardError(
                    ErrorCode.CONFLICT,
                    f"is in use: job {record.spec.job_id} ({record.state.value}) trains on dataset "
                    f"{request.name!r}; cancel it or wait for it to end",
                    "name",
                )
        info = await self._started.datasets.delete(request.name)
        if info is None:
            raise _no_dataset(request.name)
        self._log.info("dataset deleted", extra={"dataset": request.name})
        return info

    async def _tokenizer_and_model(self) -> tuple[Any, str]:
        """The base model's tokenizer (loaded once) and its id: datasets' tokens are counted with it."""
        settings = self._started.settings
        model = resolve_model(settings)
        async with self._tokenizer_lock:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                self._tokenizer = await asyncio.to_thread(
                    AutoTokenizer.from_pretrained, model.location, token=settings.hf_token
                )
        return self._tokenizer, model.model_id


def _no_dataset(name: str) -> SwitchboardError:
    return SwitchboardError(ErrorCode.NOT_FOUND, f"names no dataset ({name!r})", "name")
