"""Idempotent creation of the streams, KV buckets and object stores an actor owns.

Every one is created with `replicas` copies (`NATS_REPLICAS`, default 1). One that exists already with
other settings is brought to them with `update_stream`; where NATS refuses (more replicas than the
cluster has JetStream nodes, replicas above 1 on a single server, a storage or retention change), the
actor fails to start with a `SwitchboardError` that names the stream, each setting that differs, and
NATS's reason.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from messages import ErrorCode, SwitchboardError

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


async def _bring_to(
    js: JetStreamContext, stream: str, replicas: int, wanted: dict[str, Any], log: logging.Logger
) -> None:
    """Update the existing `stream` where its config differs from `wanted` (StreamConfig field names)."""
    info = await js.stream_info(stream)
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
        raise _refused(stream, replicas, differences, exc) from exc
    log.info(
        "jetstream settings changed",
        extra={"stream": stream, **{name: f"{have} -> {want}" for name, (have, want) in differences.items()}},
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig, log: logging.Logger) -> None:
    """Create the stream, or bring an existing one to `config` (the settings in `_COMPARED` that it sets).

    `config.num_replicas` is the replica count (the caller passes `Settings.nats_replicas`).
    Raises `SwitchboardError(BAD_REQUEST)` when NATS refuses to create or change it."""
    name = config.name or ""
    replicas = config.num_replicas or 1
    try:
        await js.stream_info(name)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except APIError as exc:
            if exc.err_code != 10058:  # 10058: another instance created it a moment ago
                raise _refused(name, replicas, {}, exc) from exc
        else:
            return
    wanted = {key: getattr(config, key) for key in _COMPARED if getattr(config, key) not in (None, 0)}  # unset
    await _bring_to(js, name, replicas, wanted, log)


async def open_key_value(
    js: JetStreamContext, bucket: str, description: str, history: int, log: logging.Logger, *, replicas: int = 1
) -> KeyValue:
    """KV `bucket` (file storage, `replicas` copies), created if missing; an existing bucket's history and
    replicas are brought to `history` and `replicas`. Raises `SwitchboardError(BAD_REQUEST)` when NATS
    refuses either."""
    try:
        kv = await js.key_value(bucket)
    except BucketNotFoundError:
        config = KeyValueConfig(
            bucket=bucket, description=description, history=history, storage=StorageType.FILE, replicas=replicas
        )
        try:
            return await js.create_key_value(config)
        except APIError as exc:
            if exc.err_code != 10058:
                raise _refused(f"KV_{bucket}", replicas, {}, exc) from exc
            kv = await js.key_value(bucket)  # another service created it a moment ago
    await _bring_to(js, f"KV_{bucket}", replicas, {"max_msgs_per_subject": history, "num_replicas": replicas}, log)
    return kv


async def open_object_store(
    js: JetStreamContext, bucket: str, description: str, log: logging.Logger, *, replicas: int = 1
) -> ObjectStore:
    """Object store `bucket` (file storage, `replicas` copies), created if missing; an existing one's
    replicas are brought to `replicas`. Raises `SwitchboardError(BAD_REQUEST)` when NATS refuses."""
    try:
        store = await js.object_store(bucket)
    except BucketNotFoundError:
        config = ObjectStoreConfig(description=description, storage=StorageType.FILE, replicas=replicas)
        try:
            return await js.create_object_store(bucket, config)
        except APIError as exc:
            if exc.err_code != 10058:
                raise _refused(f"OBJ_{bucket}", replicas, {}, exc) from exc
            store = await js.object_store(bucket)
    await _bring_to(js, f"OBJ_{bucket}", replicas, {"num_replicas": replicas}, log)
    return store
