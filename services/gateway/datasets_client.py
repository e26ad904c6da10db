"""Talking to the training service about datasets: an upload is put in Object Store `dataset-uploads`, then
`svc.training.datasets.add` checks and stores it (the gateway never parses a dataset itself)."""

from __future__ import annotations

import contextlib
import uuid

from nats.aio.client import Client
from nats.js.errors import BucketNotFoundError

from messages import (
    AddDataset,
    DatasetInfo,
    DatasetList,
    DatasetListReply,
    DatasetReply,
    ErrorCode,
    GetDataset,
    ListDatasets,
    SwitchboardError,
    decode,
    encode,
    subjects,
)
from messages.adapters import adapter_name_problem, check_adapter_name

from .nats_request import request
from .training_client import NO_TRAINER

FILE_ARGUMENT = "file"


class DatasetsClient:
    """`timeout_s` for lookups; `check_timeout_s` for checking an upload (a 100 MB file takes a while)."""

    def __init__(self, nc: Client, timeout_s: float, check_timeout_s: float, max_bytes: int) -> None:
        self._nc = nc
        self._timeout_s = timeout_s
        self._check_timeout_s = check_timeout_s
        self.max_bytes = max_bytes

    async def _call(self, subject: str, payload: bytes, timeout_s: float | None = None) -> bytes:
        return await request(
            self._nc,
            subject,
            payload,
            timeout_s=timeout_s or self._timeout_s,
            absent=NO_TRAINER,
            what="the training service",
        )

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
            raise SwitchboardError(ErrorCode.UNAVAILABLE, NO_TRAINER) from None
        staged = uuid.uuid4().hex
        await uploads.put(staged, data)
        try:
            answer = await self._call(
                subjects.DATASETS_ADD,
                encode(AddDataset(name=name, upload=staged, filename=filename)),
                self._check_timeout_s,
            )
        except BaseException:
            with contextlib.suppress(Exception):  # the training service removes it too; it expires anyway
                await uploads.delete(staged)
            raise
        return _info(answer)

    async def all(self) -> list[DatasetInfo]:
        answer = await self._call(subjects.DATASETS_LIST, encode(ListDatasets()))
        reply: DatasetListReply = decode(answer, DatasetListReply)  # type: ignore[arg-type]
        if isinstance(reply, DatasetList):
            return reply.datasets
        raise SwitchboardError.from_message(reply)

    async def get(self, name: str) -> DatasetInfo | None:
        """The dataset's info; None when there is none (a name that cannot be one included)."""
        if adapter_name_problem(name) is not None:
            return None
        try:
            return _info(await self._call(subjects.DATASETS_GET, encode(GetDataset(name=name))))
        except SwitchboardError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return None
            raise

    async def delete(self, name: str) -> DatasetInfo:
        return _info(await self._call(subjects.DATASETS_DELETE, encode(GetDataset(name=name))))


def _info(answer: bytes) -> DatasetInfo:
    reply: DatasetReply = decode(answer, DatasetReply)  # type: ignore[arg-type]
    if isinstance(reply, DatasetInfo):
        return reply
    raise SwitchboardError.from_message(reply)
