"""Adapter registry helpers (no tests here): run a registry, speak `svc.adapters.*`, upload files, choose the
default adapter. (Real LoRA adapters are made and registered by `services.runtime.testing.make_lora` and
`register_adapter`, which the benches use too.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from nats.aio.client import Client

from messages import (
    ActivateAdapter,
    AdapterMeta,
    AdapterReply,
    AdapterState,
    DeactivateAdapter,
    ErrorMessage,
    RegisterAdapter,
    decode,
    encode,
    subjects,
    utc_timestamp,
)
from services.adapters import AdaptersActor, AdaptersConfig
from services.runtime import Settings, running
from services.runtime.testing import until_answering
from tests.conftest import worker_settings

BASE_MODEL = "test-org/base-model"
CONFIG = AdaptersConfig(base_model_id=BASE_MODEL)
FILES = b"PK\x03\x04 fake adapter_model.safetensors and adapter_config.json"


def unique(prefix: str = "ad") -> str:
    """A fresh adapter name: every test shares one nats-server and so one `adapters` bucket."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_meta(name: str, **changes: Any) -> AdapterMeta:
    fields: dict[str, Any] = {
        "name": name,
        "base_model": BASE_MODEL,
        "created": utc_timestamp(),
        "dataset": "data/instructions.jsonl",
        "steps": 12,
        "size_bytes": len(FILES),
        "final_loss": 1.25,
        "job_id": "job-" + name,
        "lora_r": 8,
        "lora_alpha": 16,
    }
    fields.update(changes)
    return AdapterMeta(**fields)


@asynccontextmanager
async def registry(nc: Client, base: Settings, config: AdaptersConfig = CONFIG) -> AsyncIterator[AdaptersActor]:
    settings = worker_settings(base)
    actor = AdaptersActor(settings, config)
    async with running(actor, settings):
        await until_answering(nc, subjects.ADAPTERS_LIST)
        yield actor


async def raw(nc: Client, subject: str, payload: bytes, timeout: float = 10.0) -> tuple[AdapterReply, bool]:
    """Send a payload; return the decoded reply and whether micro's error headers were set."""
    msg = await nc.request(subject, payload, timeout=timeout)
    flagged = bool(msg.headers and msg.headers.get("Nats-Service-Error-Code"))
    return decode(msg.data, AdapterReply), flagged  # type: ignore[arg-type]


async def ask(nc: Client, subject: str, request: object, timeout: float = 10.0) -> AdapterReply:
    reply, flagged = await raw(nc, subject, encode(request), timeout)
    assert flagged == isinstance(reply, ErrorMessage), reply
    return reply


def chosen(reply: AdapterReply) -> str | None:
    """The adapter an activate or deactivate answer names (None: the base model); any other answer fails."""
    assert isinstance(reply, AdapterState), reply
    return reply.active


async def upload(nc: Client, name: str, data: bytes = FILES) -> None:
    """Put an adapter's files into `adapter-files`, as training does before it registers the adapter."""
    store = await nc.jetstream().object_store(subjects.ADAPTER_FILES_BUCKET)
    await store.put(name, data)


async def add_adapter(nc: Client, name: str, **changes: Any) -> AdapterMeta:
    meta = make_meta(name, **changes)
    await upload(nc, name)
    reply = await ask(nc, subjects.ADAPTERS_REGISTER, RegisterAdapter(meta=meta))
    assert not isinstance(reply, ErrorMessage), reply
    return meta


async def read_active(nc: Client) -> str:
    """`active` as an inference worker reads it: straight from KV `adapters`."""
    kv = await nc.jetstream().key_value(subjects.ADAPTERS_BUCKET)
    entry = await kv.get(subjects.ACTIVE_KEY)
    return (entry.value or b"").decode()


async def set_active(nc: Client, name: str | None) -> None:
    """Choose the default adapter through the registry, as loadAdapter / useBaseModel do."""
    if name is None:
        reply = await nc.request(subjects.ADAPTERS_DEACTIVATE, encode(DeactivateAdapter()), timeout=5)
    else:
        reply = await nc.request(subjects.ADAPTERS_ACTIVATE, encode(ActivateAdapter(name=name)), timeout=5)
    assert b'"error"' not in reply.data, reply.data
