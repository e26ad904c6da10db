"""Talking to the training service about datasets: an upload is put in Object Store `dataset-uploads`, then
`svc.training.datasets.add` checks and stores it (the gateway never parses a dataset itself)."""

from __future__ import annotations

import contextlib
import uuid
from typing import TypeVar

from nats.aio.client import Client
from nats.js.errors import BucketNotFoundError

from messages import (
    AddDataset,
    DatasetInfo,
    DatasetList,
    ErrorCode,
    GetDataset,
    ListDatasets,
    SwitchboardError,
    subjects,
)
from messages.adapters import adapter_name_problem, check_adapter_name
from services.runtime.call import TRAINING, call

FILE_ARGUMENT = "file"
T = TypeVar("T")


class DatasetsClient:
    """`timeout_s` for lookups; `check_timeout_s` for checking an upload (a 100 MB file takes a while)."""

    def __init__(self, nc: Client, timeout_s: float, check_timeout_s: float, max_bytes: int) -> None:
        self._nc = nc
        self._timeout_s = timeout_s
        self._check_timeout_s = check_timeout_s
        self.max_bytes = max_bytes

    async def _call(self, subject: str, message: object, ok: type[T], timeout_s: float | None = None) -> T:
        return await call(self._nc, subject, message, ok, timeout_s=timeout_s or self._timeout_s, peer=TRAINING)

    async def upload(self, name: str, data: bytes, filename: str | None = None) -> DatasetInfo:
        """Stage `data` and have it checked and stored as dataset `name`.

        Raises:
            SwitchboardError: BAD_REQUEST about `name` or `file` (a bad name, too large, a row that cannot be
                trained on, by line), CONFLICT (the name is taken), UNAVAILABLE (no training service).
        """
        check_adapter_name(name, "name")
        if len(data) > self.max_bytes:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"is {len(data) / 2**20:.1f} MB, over the {self.max_bytes / 2**20:.3g} MB a dataset may have "
                "(DATASET_MAX_MB)",
                FILE_ARGUMENT,
            )
        try:
            uploads = await self._nc.jetstream().object_store(subjects.DATASET_UPLOADS_BUCKET)
        except BucketNotFoundError:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, TRAINING.absent) from None
        staged = uuid.uuid4().hex
        await uploads.put(staged, data)
        try:
            return await self._call(
                subjects.DATASETS_ADD,
                AddDataset(name=name, upload=staged, filename=filename),
                DatasetInfo,
                self._check_timeout_s,
            )
        except BaseException:
            with contextlib.suppress(Exception):  # the training service removes it too; it expires anyway
                await uploads.delete(staged)
            raise

    async def all(self) -> list[DatasetInfo]:
        return (await self._call(subjects.DATASETS_LIST, ListDatasets(), DatasetList)).datasets

    async def get(self, name: str) -> DatasetInfo | None:
        """The dataset's info; None when there is none (a name that cannot be one included)."""
        if adapter_name_problem(name) is not None:
            return None
        try:
            return await self._call(subjects.DATASETS_GET, GetDataset(name=name), DatasetInfo)
        except SwitchboardError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return None
            raise

    async def delete(self, name: str) -> DatasetInfo:
        return await self._call(subjects.DATASETS_DELETE, GetDataset(name=name), DatasetInfo)
