"""Idempotent creation of the streams, KV buckets and object stores an actor owns."""

from __future__ import annotations

import dataclasses
import logging

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or update it to `config` when it exists already."""
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
        return
    await js.update_stream(config)


async def open_key_value(
    js: JetStreamContext, bucket: str, description: str, history: int, log: logging.Logger
) -> KeyValue:
    """KV `bucket` (file storage), created if missing; an existing bucket's history is set to `history`."""
    try:
        kv = await js.key_value(bucket)
    except BucketNotFoundError:
        config = KeyValueConfig(bucket=bucket, description=description, history=history, storage=StorageType.FILE)
        try:
            return await js.create_key_value(config)
        except APIError:  # another service created it a moment ago
            return await js.key_value(bucket)
    info = await js.stream_info(f"KV_{bucket}")
    if info.config.max_msgs_per_subject != history:
        await js.update_stream(dataclasses.replace(info.config, max_msgs_per_subject=history))
        log.info("kv history changed", extra={"bucket": bucket, "history": history})
    return kv


async def open_object_store(js: JetStreamContext, bucket: str, description: str) -> ObjectStore:
    """Object store `bucket` (file storage), created if missing."""
    try:
        return await js.object_store(bucket)
    except BucketNotFoundError:
        config = ObjectStoreConfig(description=description, storage=StorageType.FILE)
        try:
            return await js.create_object_store(bucket, config)
        except APIError:  # another service created it a moment ago
            return await js.object_store(bucket)
