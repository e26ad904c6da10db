"""A finished adapter goes to NATS: its files as one object in `adapter-files`, then registered with the
registry (`svc.adapters.register`), which makes it visible to every inference worker."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import msgspec
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.object_store import ObjectStore

from messages import (
    AdapterList,
    AdapterMeta,
    ErrorCode,
    RegisterAdapter,
    SwitchboardError,
    describe,
    encode,
    subjects,
)
from services.runtime.adapter_files import open_adapter_files, pack
from services.runtime.call import Peer, answer, request

from .validate import check_name_free

_REGISTRY = Peer(
    "the adapter registry",
    f"no adapter registry answers {subjects.ADAPTERS_REGISTER}; "
    "start it (`python -m services.adapters`) and train again",
)


async def publish_adapter(
    nc: Client,
    js: JetStreamContext,
    folder: Path,
    meta: AdapterMeta,
    timeout_s: float,
    log: logging.Logger,
    replicas: int = 1,
) -> AdapterMeta:
    """Upload `folder` as object `meta.name` and register it; returns the registered metadata. The object
    store is created with `replicas` copies when it does not exist yet.

    Raises SwitchboardError when the name was taken meanwhile or the registry refuses or does not answer
    (then the uploaded object is removed again).
    """
    await check_name_free(js, meta.name)  # never overwrite a registered adapter's files
    data = pack(folder)
    meta = msgspec.structs.replace(meta, size_bytes=len(data))
    store = await open_adapter_files(js, log, replicas)
    await store.put(meta.name, data)
    log.info("adapter files stored", extra={"adapter": meta.name, "bytes": len(data)})
    message = RegisterAdapter(meta=meta, request_id=meta.job_id)
    try:
        data = await request(nc, subjects.ADAPTERS_REGISTER, encode(message), timeout_s=timeout_s, peer=_REGISTRY)
    except SwitchboardError:
        await _remove(store, meta.name)
        raise
    try:
        answer(data, AdapterList, _REGISTRY)
    except SwitchboardError as exc:
        if exc.code is not ErrorCode.CONFLICT:  # a conflict: the files now belong to the registered one
            await _remove(store, meta.name)
        raise SwitchboardError(
            exc.code, f"registering adapter {meta.name!r} failed: {describe(exc.message, exc.field)}"
        ) from exc
    return meta


async def _remove(store: ObjectStore, name: str) -> None:
    with contextlib.suppress(Exception):
        await store.delete(name)
