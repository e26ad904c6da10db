"""Two inference workers share the `inference` queue group: each request is served exactly once.

Each worker has room for all 24 requests, so no request is refused as busy whatever the timing."""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.client import Client

from messages import Accept
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings
from tests.nats_client import generate


async def test_two_workers_share_the_queue_group(nc: Client, base_settings: Settings, tiny_model: object) -> None:
    a = worker_settings(base_settings, model_id=str(tiny_model))
    b = worker_settings(base_settings, model_id=str(tiny_model))
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(running(InferenceActor(a, InferenceConfig(max_concurrency=24)), a))
        await stack.enter_async_context(running(InferenceActor(b, InferenceConfig(max_concurrency=24)), b))
        results = await asyncio.gather(*(generate(nc, f"one two {i}", max_new_tokens=4) for i in range(24)))
    workers = [reply.worker_id for reply, _ in results if isinstance(reply, Accept)]
    assert len(workers) == 24, "every request accepted exactly once"
    assert set(workers) == {a.worker_id, b.worker_id}, "both workers took a share"
    assert all(chunks[-1].done for _, chunks in results)
