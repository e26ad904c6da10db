"""Two inference workers share the `inference` queue group: each request is served exactly once, and
both take a share.

Each worker has room for a whole batch, so no request is refused as busy whatever the timing. Requests
go out in batches until both workers have served some (at most 20 batches): right after a worker
subscribes, the server may still route every request to the other one for a moment.
"""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.client import Client

from messages import Accept
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings
from tests.support.nats_client import generate

BATCH = 8


async def test_two_workers_share_the_queue_group(nc: Client, base_settings: Settings, tiny_model: object) -> None:
    a = worker_settings(base_settings, model_id=str(tiny_model))
    b = worker_settings(base_settings, model_id=str(tiny_model))
    served: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        ctx_a = await stack.enter_async_context(running(InferenceActor(a, InferenceConfig(max_concurrency=BATCH)), a))
        ctx_b = await stack.enter_async_context(running(InferenceActor(b, InferenceConfig(max_concurrency=BATCH)), b))
        for batch in range(20):
            results = await asyncio.gather(
                *(generate(nc, f"one two {batch} {i}", max_new_tokens=4) for i in range(BATCH))
            )
            for reply, chunks in results:
                assert isinstance(reply, Accept), reply
                assert chunks[-1].done and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4
                served.append(reply.worker_id)
            if set(served) == {a.worker_id, b.worker_id}:
                break
        handled = [
            endpoint.num_requests
            for ctx in (ctx_a, ctx_b)
            for endpoint in ctx.service.stats().endpoints
            if endpoint.name == "generate"
        ]
    assert set(served) == {a.worker_id, b.worker_id}, "both workers took a share"
    assert sum(handled) == len(served), "every request reached exactly one worker"
    assert handled == [served.count(a.worker_id), served.count(b.worker_id)]
