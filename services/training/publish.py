"""A finished adapter goes to NATS: its files as one object in `adapter-files`, then registered with the
registry (`svc.adapters.register`), which makes it visible to every inference worker."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import msgspec
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.js import JetStreamContext
from nats.js.object_store import ObjectStore

from messages import (
    AdapterList,
    AdapterMeta,
    AdapterReply,
    AdapterState,
    ErrorCode,
    ErrorMessage,
    RegisterAdapter,
    SwitchboardError,
    decode,
    describe,
    encode,
    subjects,
)
from services.runtime.adapter_files import open_adapter_files, pack

from .validate import check_name_free


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
    try:
        msg = await nc.request(
            subjects.ADAPTERS_REGISTER, encode(RegisterAdapter(meta=meta, request_id=meta.job_id)), timeout=timeout_s
        )
        reply: AdapterList | AdapterState | ErrorMessage = decode(msg.data, AdapterReply)  # type: ignore[arg-type]
    except NoRespondersError as exc:
        await _remove(store, meta.name)
        raise SwitchboardError(
            ErrorCode.UNAVAILABLE,
            f"no adapter registry answers {subjects.ADAPTERS_REGISTER}; start it (`python -m services.adapters`) "
            "and train again",
        ) from exc
    except (NatsError, TimeoutError) as exc:
        await _remove(store, meta.name)
        raise SwitchboardError(
            ErrorCode.UNAVAILABLE, f"the adapter registry did not answer within {timeout_s:g}s ({type(exc).__name__})"
        ) from exc
    if isinstance(reply, ErrorMessage):
        if reply.code is not ErrorCode.CONFLICT:  # a conflict: the files now belong to the registered one
            await _remove(store, meta.name)
        raise SwitchboardError(
            reply.code, f"registering adapter {meta.name!r} failed: {describe(reply.message, reply.field)}"
        )
    return meta


async def _remove(store: ObjectStore, name: str) -> None:
    with contextlib.suppress(Exception):
        await store.delete(name)
