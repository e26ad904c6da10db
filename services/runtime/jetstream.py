"""Idempotent creation of the streams, KV buckets and object stores an actor owns.

Every one is created with `replicas` copies (`NATS_REPLICAS`, default 1). One that exists already with
other settings is brought to them with `update_stream`, except that its replicas are only ever raised: a
service started without `NATS_REPLICAS` beside a cluster must not take the copies away (lowering them is
an operator's `nats stream edit`). Where NATS refuses (more replicas than the cluster has JetStream nodes,
replicas above 1 on a single server, a storage or retention change), the actor fails to start with a
`SwitchboardError` that names the stream, each setting that differs, and NATS's reason.

A cluster that is still electing leaders (just started, or a node just died) answers JetStream requests
with timeouts or 503s for some seconds: every call here is retried for up to `JETSTREAM_READY_S`, then
fails with `SwitchboardError(UNAVAILABLE)`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError, ServiceUnavailableError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from messages import ErrorCode, SwitchboardError

T = TypeVar("T")
NAME_IN_USE = 10058  # JetStream's error code for a create that raced another instance's
JETSTREAM_READY_S = 60.0  # how long a starting service waits for JetStream (a cluster electing leaders)

# the settings `ensure_stream` compares and reports; the others it passes to NATS as given
_COMPARED = (
    "num_replicas",
    "storage",
    "retention",
    "subjects",
    "max_age",
    "max_bytes",
    "max_msgs",
    "discard",
    "duplicate_window",
    "description",
)


def _refused(stream: str, replicas: int, differences: dict[str, tuple[Any, Any]], exc: APIError) -> SwitchboardError:
    changes = ", ".join(f"{name} {have!r} -> {want!r}" for name, (have, want) in differences.items())
    hint = (
        f" NATS_REPLICAS={replicas} needs a NATS cluster with at least {replicas} JetStream nodes."
        if replicas > 1
        else ""
    )
    what = f"cannot bring it to this service's settings ({changes})" if changes else "cannot create it"
    return SwitchboardError(
        ErrorCode.BAD_REQUEST, f"JetStream stream {stream}: {what}; NATS says: {exc.description}.{hint}"
    )


def _value(value: Any) -> Any:
    return getattr(value, "value", value)  # enums compare and print by their wire value


async def when_ready(call: Callable[[], Awaitable[T]], what: str, log: logging.Logger) -> T:
    """`call()`, again while JetStream answers with a timeout or 503 (no leader yet), for up to
    `JETSTREAM_READY_S`. Raises SwitchboardError(UNAVAILABLE) when it never answers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + JETSTREAM_READY_S
    pause = 0.25
    while True:
        try:
            return await call()
        except (NatsTimeoutError, ServiceUnavailableError) as exc:
            if loop.time() + pause > deadline:
                raise SwitchboardError(
                    ErrorCode.UNAVAILABLE,
                    f"JetStream did not answer for {what} within {JETSTREAM_READY_S:g}s ({type(exc).__name__}); "
                    "is the NATS cluster up and does it have a quorum of JetStream nodes?",
                ) from exc
            log.info("jetstream not ready yet; retrying", extra={"what": what, "error": type(exc).__name__})
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


async def _bring_to(js: JetStreamContext, stream: str, wanted: dict[str, Any], log: logging.Logger) -> None:
    """Update the existing `stream` where its config differs from `wanted` (StreamConfig field names);
    replicas are raised, never lowered."""
    info = await js.stream_info(stream)
    have = info.config.num_replicas or 1
    asked = wanted.get("num_replicas", have)
    if asked < have:
        log.warning(
            "jetstream keeps more replicas than NATS_REPLICAS asks for",
            extra={"stream": stream, "replicas": have, "NATS_REPLICAS": wanted["num_replicas"]},
        )
        wanted = {**wanted, "num_replicas": have}
    differences = {
        name: (_value(getattr(info.config, name)), _value(want))
        for name, want in wanted.items()
        if _value(getattr(info.config, name)) != _value(want)
    }
    if not differences:
        return
    try:
        await js.update_stream(dataclasses.replace(info.config, **wanted))
    except APIError as exc:
        raise _refused(stream, asked, differences, exc) from exc
    log.info(
        "jetstream settings changed",
        extra={"stream": stream, **{name: f"{have} -> {want}" for name, (have, want) in differences.items()}},
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig, log: logging.Logger) -> None:
    """Create the stream, or bring an existing one to `config` (the settings in `_COMPARED` that it sets).

    `config.num_replicas` is the replica count (the caller passes `Settings.nats_replicas`).
    Raises `SwitchboardError`: BAD_REQUEST when NATS refuses to create or change it, UNAVAILABLE when
    JetStream does not answer (see `when_ready`)."""
    await when_ready(lambda: _ensure_stream(js, config, log), f"stream {config.name}", log)


async def _ensure_stream(js: JetStreamContext, config: StreamConfig, log: logging.Logger) -> None:
    name = config.name or ""
    replicas = config.num_replicas or 1
    try:
        await js.stream_info(name)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except APIError as exc:
            if exc.err_code != NAME_IN_USE:
                raise _refused(name, replicas, {}, exc) from exc
        else:
            return
    wanted = {key: getattr(config, key) for key in _COMPARED if getattr(config, key) not in (None, 0)}  # unset
    await _bring_to(js, name, wanted, log)


async def open_key_value(
    js: JetStreamContext,
    bucket: str,
    description: str,
    history: int,
    log: logging.Logger,
    *,
    replicas: int = 1,
    ttl_s: float | None = None,
) -> KeyValue:
    """KV `bucket` (file storage, `replicas` copies, entries dropped `ttl_s` seconds after their last write
    when given), created if missing; an existing bucket's history, replicas and TTL are brought to these.
    Raises `SwitchboardError` as `ensure_stream` does."""
    return await when_ready(
        lambda: _open_key_value(js, bucket, description, history, log, replicas, ttl_s), f"KV bucket {bucket}", log
    )


async def _open_key_value(
    js: JetStreamContext,
    bucket: str,
    description: str,
    history: int,
    log: logging.Logger,
    replicas: int,
    ttl_s: float | None,
) -> KeyValue:
    try:
        kv = await js.key_value(bucket)
    except BucketNotFoundError:
        config = KeyValueConfig(
            bucket=bucket,
            description=description,
            history=history,
            storage=StorageType.FILE,
            replicas=replicas,
            ttl=ttl_s,
        )
        try:
            return await js.create_key_value(config)
        except APIError as exc:
            if exc.err_code != NAME_IN_USE:
                raise _refused(f"KV_{bucket}", replicas, {}, exc) from exc
            kv = await js.key_value(bucket)  # another service created it a moment ago
    wanted: dict[str, Any] = {"max_msgs_per_subject": history, "num_replicas": replicas}
    if ttl_s is not None:
        wanted["max_age"] = ttl_s
    await _bring_to(js, f"KV_{bucket}", wanted, log)
    return kv


async def open_object_store(
    js: JetStreamContext,
    bucket: str,
    description: str,
    log: logging.Logger,
    *,
    replicas: int = 1,
    ttl_s: float | None = None,
) -> ObjectStore:
    """Object store `bucket` (file storage, `replicas` copies, objects dropped after `ttl_s` when given),
    created if missing; an existing one's replicas are brought to `replicas`. Raises `SwitchboardError` as
    `ensure_stream` does."""
    return await when_ready(
        lambda: _open_object_store(js, bucket, description, log, replicas, ttl_s), f"object store {bucket}", log
    )


async def _open_object_store(
    js: JetStreamContext, bucket: str, description: str, log: logging.Logger, replicas: int, ttl_s: float | None
) -> ObjectStore:
    try:
        store = await js.object_store(bucket)
    except BucketNotFoundError:
        config = ObjectStoreConfig(description=description, storage=StorageType.FILE, replicas=replicas, ttl=ttl_s)
        try:
            return await js.create_object_store(bucket, config)
        except APIError as exc:
            if exc.err_code != NAME_IN_USE:
                raise _refused(f"OBJ_{bucket}", replicas, {}, exc) from exc
            store = await js.object_store(bucket)
    await _bring_to(js, f"OBJ_{bucket}", {"num_replicas": replicas}, log)
    return store
