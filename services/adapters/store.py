"""KV `adapters` and Object Store `adapter-files`: opened idempotently, read, and written with revision checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import (
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    ObjectNotFoundError,
)
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from messages import AdapterMeta, ErrorCode, SwitchboardError, decode, encode, subjects
from services.runtime import open_key_value, when_ready
from services.runtime.adapter_files import open_adapter_files

# how JetStream lays out a KV bucket (the same in every client)
KV_STREAM = f"KV_{subjects.ADAPTERS_BUCKET}"
KV_SUBJECT_PREFIX = f"$KV.{subjects.ADAPTERS_BUCKET}."
ADAPTER_SUBJECTS = f"{KV_SUBJECT_PREFIX}{subjects.ADAPTER_KEY_PREFIX}.>"


class RevisionConflict(Exception):
    """The key changed (or appeared) since it was read; read it again and retry."""


class NameTaken(Exception):
    """An adapter with that name is registered already."""


@dataclass(frozen=True)
class Active:
    """The value of key `active` and its revision (0: the key does not exist, or was deleted)."""

    name: str | None  # None: the base model
    revision: int


async def _create_active(kv: KeyValue) -> None:
    with contextlib.suppress(KeyWrongLastSequenceError):  # there already: keep the choice
        await kv.create(subjects.ACTIVE_KEY, b"")


class AdapterStore:
    """Everything the registry reads or writes in NATS. It is the only writer of both buckets."""

    def __init__(self, kv: KeyValue, objects: ObjectStore, js: JetStreamContext, log: logging.Logger) -> None:
        self.kv = kv
        self.objects = objects
        self._js = js
        self._log = log

    @classmethod
    async def open(cls, js: JetStreamContext, history: int, log: logging.Logger, replicas: int = 1) -> AdapterStore:
        """Create both buckets unless they exist (file storage, `replicas` copies), and make sure key `active`
        exists."""
        kv = await open_key_value(
            js,
            subjects.ADAPTERS_BUCKET,
            "adapter.<name>: adapter metadata; active: the default adapter (empty: base model)",
            history,
            log,
            replicas=replicas,
        )
        objects = await open_adapter_files(js, log, replicas)
        store = cls(kv, objects, js, log)
        # `nats kv get adapters active` works from the start; a choice made before a restart is kept
        await when_ready(lambda: _create_active(kv), "key active of KV adapters", log)
        return store

    # -- adapters ----------------------------------------------------------------------------

    async def all(self) -> list[AdapterMeta]:
        """Every registered adapter, sorted by name; an unreadable entry is logged and left out."""
        info = await self._js.stream_info(KV_STREAM, subjects_filter=ADAPTER_SUBJECTS)
        keys = [subject[len(KV_SUBJECT_PREFIX) :] for subject in (info.state.subjects or {})]
        values = await asyncio.gather(*(self._value(key) for key in keys))
        found: list[AdapterMeta] = []
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue  # deleted: only its delete marker is left
            try:
                found.append(decode(value, AdapterMeta))
            except SwitchboardError as exc:
                self._log.warning("unreadable adapter entry left out", extra={"key": key, "error": str(exc)})
        return sorted(found, key=lambda meta: meta.name)

    async def exists(self, name: str) -> bool:
        return await self._value(subjects.adapter_key(name)) is not None

    async def get(self, name: str) -> AdapterMeta | None:
        """The adapter's metadata, or None when no adapter has that name."""
        value = await self._value(subjects.adapter_key(name))
        if value is None:
            return None
        try:
            return decode(value, AdapterMeta)
        except SwitchboardError as exc:
            raise SwitchboardError(
                ErrorCode.INTERNAL, f"the metadata of adapter {name!r} is unreadable ({exc!s}); delete it"
            ) from exc

    async def create(self, meta: AdapterMeta) -> int:
        """Store a new adapter's metadata; raises `NameTaken` when the name is in use. Returns the revision."""
        try:
            return await self.kv.create(subjects.adapter_key(meta.name), encode(meta))
        except KeyWrongLastSequenceError as exc:
            raise NameTaken(meta.name) from exc

    async def remove(self, name: str) -> None:
        """Delete the adapter's entry (a delete marker; older revisions age out with the bucket's history)."""
        await self.kv.delete(subjects.adapter_key(name))

    # -- the active adapter ------------------------------------------------------------------

    async def active(self) -> Active:
        try:
            entry = await self.kv.get(subjects.ACTIVE_KEY)
        except KeyNotFoundError:
            return Active(name=None, revision=0)
        name = (entry.value or b"").decode("utf-8", errors="replace").strip()
        return Active(name=name or None, revision=entry.revision or 0)

    async def write_active(self, name: str | None, revision: int) -> int:
        """Set `active` to `name` (None: empty, the base model) if it is still at `revision`.

        Raises `RevisionConflict` when someone wrote it in between. Returns the new revision.
        """
        value = (name or "").encode()
        try:
            if revision == 0:
                return await self.kv.create(subjects.ACTIVE_KEY, value)
            return await self.kv.update(subjects.ACTIVE_KEY, value, last=revision)
        except KeyWrongLastSequenceError as exc:
            raise RevisionConflict(subjects.ACTIVE_KEY) from exc

    # -- files -------------------------------------------------------------------------------

    async def object_size(self, name: str) -> int | None:
        """The size of object `name` in `adapter-files`, or None when there is no such object."""
        try:
            info = await self.objects.get_info(name)
        except ObjectNotFoundError:
            return None
        return info.size or 0

    async def delete_object(self, name: str) -> bool:
        """Delete object `name`; False when there was none."""
        try:
            await self.objects.delete(name)
        except ObjectNotFoundError:
            return False
        return True

    async def _value(self, key: str) -> bytes | None:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:  # also a deleted or purged key
            return None
        return entry.value or b""
