"""infer.cancel.<id> stops a generation within a token; busy past the concurrency limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from messages import (
    Accept,
    Cancel,
    ErrorCode,
    ErrorMessage,
    FinishReason,
    GenerateRequest,
    GenerationParams,
    TokenChunk,
    decode,
    encode,
    subjects,
)
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings
from tests.support.nats_client import collect, new_id, start

LONG = "Write a very long story about a dragon who learns to bake bread."


@pytest.fixture(scope="module")
async def single_slot_worker(base_settings: Settings, bundled_model: object) -> AsyncIterator[Settings]:
    settings = worker_settings(base_settings)
    async with running(InferenceActor(settings, InferenceConfig(max_concurrency=1)), settings):
        yield settings


def long_request() -> GenerateRequest:
    return GenerateRequest(request_id=new_id(), prompt=LONG, params=GenerationParams(max_new_tokens=400))


async def test_cancel_stops_within_a_token(nc: Client, single_slot_worker: Settings) -> None:
    request = long_request()
    reply, sub = await start(nc, request)
    assert isinstance(reply, Accept)
    seen: list[TokenChunk] = []
    while len(seen) < 3:
        seen.append(decode((await sub.next_msg(timeout=30)).data, TokenChunk))
    await nc.publish(subjects.cancel_subject(request.request_id), encode(Cancel(request.request_id)))
    rest = await collect(sub, timeout=10)
    final = rest[-1]
    assert final.finish_reason is FinishReason.CANCELLED
    assert final.usage is not None
    # the cancel lands within a token or two of being read, far short of the 400 asked for
    assert final.usage.completion_tokens <= len(seen) + len(rest) + 3
    assert final.usage.completion_tokens < 40


async def test_busy_past_the_limit_then_serves_again(nc: Client, single_slot_worker: Settings) -> None:
    first = long_request()
    reply, sub = await start(nc, first)
    assert isinstance(reply, Accept)
    second, sub2 = await start(nc, long_request())
    assert isinstance(second, ErrorMessage)
    assert second.code is ErrorCode.BUSY and "busy" in second.message
    await sub2.unsubscribe()
    await nc.publish(subjects.cancel_subject(first.request_id), encode(Cancel(first.request_id)))
    assert (await collect(sub, timeout=10))[-1].finish_reason is FinishReason.CANCELLED
    third, sub3 = await start(
        nc, GenerateRequest(request_id=new_id(), prompt="Hi", params=GenerationParams(max_new_tokens=3))
    )
    assert isinstance(third, Accept)
    assert (await collect(sub3))[-1].done
