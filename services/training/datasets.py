"""Datasets as first-class objects: KV `datasets` (each one's info) and Object Store `datasets` (its file),
written only by the training service, read by every training worker on any host.

Adding one reads an upload from Object Store `dataset-uploads` (the gateway's staging area, whose objects
expire after `UPLOAD_TTL_S`), checks every row (`formats.parse_file`), counts its tokens with the base
model's chat template, stores the file, then creates its info. A dataset exists once its info does: a
refused, interrupted or failed add leaves no info, and the file written before it is removed (or, if the
service died in between, replaced by the next upload of that name and never read meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NotFoundError, ObjectNotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from messages import (
    AddDataset,
    DatasetInfo,
    DatasetRow,
    DatasetTurn,
    ErrorCode,
    SwitchboardError,
    decode,
    encode,
    subjects,
    utc_timestamp,
)
from messages.datasets import PREVIEW_CHARS, PREVIEW_ROWS
from messages.training import BUNDLED_DATASET
from services.runtime import open_key_value, open_object_store

from .formats import FormatError, ParsedDataset, parse_file
from .render import render
from .sources import BUNDLED_FILE, FILE_SUFFIXES

RESERVED = frozenset({BUNDLED_DATASET, BUNDLED_FILE.stem})  # `datasetName` means the shipped set by these
UPLOAD_TTL_S = 3600.0  # an upload nobody added is dropped by NATS after this long
NAME_FIELD = "name"
FILE_FIELD = "file"


class DatasetStore:
    """KV `datasets`, Object Store `datasets` and `dataset-uploads`, opened idempotently."""

    def __init__(self, kv: KeyValue, files: ObjectStore, uploads: ObjectStore, log: logging.Logger) -> None:
        self.kv = kv
        self.files = files
        self.uploads = uploads
        self._log = log

    @classmethod
    async def open(cls, js: JetStreamContext, log: logging.Logger, replicas: int = 1) -> DatasetStore:
        kv = await open_key_value(
            js, subjects.DATASETS_BUCKET, "dataset.<name>: an uploaded dataset's info", 1, log, replicas=replicas
        )
        files = await open_object_store(js, subjects.DATASETS_BUCKET, "one object per dataset", log, replicas=replicas)
        uploads = await open_object_store(
            js,
            subjects.DATASET_UPLOADS_BUCKET,
            "uploads waiting to be checked (dropped after an hour)",
            log,
            replicas=replicas,
            ttl_s=UPLOAD_TTL_S,
        )
        return cls(kv, files, uploads, log)

    async def get(self, name: str) -> DatasetInfo | None:
        try:
            entry = await self.kv.get(subjects.dataset_key(name))
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        return decode(entry.value, DatasetInfo)

    async def all(self) -> list[DatasetInfo]:
        """Every dataset, by name; an unreadable entry is logged and left out."""
        try:
            keys = await self.kv.keys()
        except NotFoundError:  # nats-py: "no keys found"
            return []
        found: list[DatasetInfo] = []
        for key in sorted(keys):
            if not key.startswith(f"{subjects.DATASET_KEY_PREFIX}."):
                continue
            try:
                info = await self.get(key.split(".", 1)[1])
            except SwitchboardError as exc:
                self._log.warning("unreadable dataset info", extra={"key": key, "error": str(exc)})
                continue
            if info is not None:
                found.append(info)
        return found

    async def add(self, request: AddDataset, check: Callable[[bytes], DatasetInfo], max_bytes: int) -> DatasetInfo:
        """Check upload `request.upload` with `check` (in a thread) and store it; the upload is removed either way.

        Raises:
            SwitchboardError: CONFLICT (the name is taken), NOT_FOUND (no such upload, or it expired),
                BAD_REQUEST about `file` (too large, or a row that cannot be trained on, by line).
        """
        try:
            if request.name.lower() in RESERVED or request.name.lower().endswith(FILE_SUFFIXES):
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST,
                    f"is reserved ({request.name!r} names the shipped set or a file in the dataset folder); "
                    "choose another name",
                    NAME_FIELD,
                )
            if await self.get(request.name) is not None:
                raise SwitchboardError(
                    ErrorCode.CONFLICT,
                    f"is taken: a dataset named {request.name!r} exists already; delete it or choose another name",
                    NAME_FIELD,
                )
            data = await self._read_upload(request.upload, max_bytes)
            info = await asyncio.to_thread(check, data)
            await self.files.put(request.name, data)
            try:
                await self.kv.create(subjects.dataset_key(request.name), encode(info))
            except KeyWrongLastSequenceError:
                raise SwitchboardError(
                    ErrorCode.CONFLICT, f"is taken: dataset {request.name!r} was added meanwhile", NAME_FIELD
                ) from None
            except BaseException:
                with contextlib.suppress(Exception):
                    await self.files.delete(request.name)
                raise
            return info
        finally:
            with contextlib.suppress(Exception):
                await self.uploads.delete(request.upload)

    async def delete(self, name: str) -> DatasetInfo | None:
        """Remove the dataset's info, then its file; returns the info, None when there was none."""
        info = await self.get(name)
        if info is None:
            return None
        await self.kv.purge(subjects.dataset_key(name))
        with contextlib.suppress(ObjectNotFoundError, NotFoundError):
            await self.files.delete(name)
        return info

    async def download(self, name: str, folder: Path) -> Path:
        """The dataset's file copied into `folder`. Raises SwitchboardError NOT_FOUND when it is gone."""
        try:
            result = await self.files.get(name)
        except (ObjectNotFoundError, NotFoundError):
            raise SwitchboardError(ErrorCode.NOT_FOUND, f"dataset {name!r} has no file; upload it again") from None
        path = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".jsonl", dir=folder)[1])
        await asyncio.to_thread(path.write_bytes, result.data or b"")
        return path

    async def _read_upload(self, upload: str, max_bytes: int) -> bytes:
        try:
            info = await self.uploads.get_info(upload)
        except (ObjectNotFoundError, NotFoundError):
            raise SwitchboardError(
                ErrorCode.NOT_FOUND,
                "the upload is gone (it expired, or was added already); upload the file again",
                FILE_FIELD,
            ) from None
        if (info.size or 0) > max_bytes:
            raise _too_large(info.size or 0, max_bytes)
        result = await self.uploads.get(upload)
        return result.data or b""


def _too_large(size: int, max_bytes: int) -> SwitchboardError:
    return SwitchboardError(
        ErrorCode.BAD_REQUEST,
        f"is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.3g} MB a dataset may have (DATASET_MAX_MB)",
        FILE_FIELD,
    )


def check_upload(name: str, data: bytes, tokenizer: Any, base_model: str, max_bytes: int) -> DatasetInfo:
    """Read every row of `data` and count its tokens; the info to store. Raises SwitchboardError about `file`."""
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    try:
        parsed = parse_file(data)
    except FormatError as exc:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, str(exc), FILE_FIELD) from None
    tokens = sum(len(render(row, tokenizer).input_ids) for row in parsed.rows)
    return DatasetInfo(
        name=name,
        format=parsed.format.value,
        rows=len(parsed.rows),
        tokens=tokens,
        size_bytes=len(data),
        created_at=utc_timestamp(),
        base_model=base_model,
        preview=preview_rows(parsed),
    )


def preview_rows(parsed: ParsedDataset, count: int = PREVIEW_ROWS) -> list[DatasetRow]:
    return [
        DatasetRow(
            line=row.line,
            messages=[DatasetTurn(role=t.role, content=t.content[:PREVIEW_CHARS]) for t in row.turns],
        )
        for row in parsed.rows[:count]
    ]
