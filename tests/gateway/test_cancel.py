"""A subscription that completes early, or a client that disconnects (websocket or HTTP), cancels its generation
(a dropped websocket once the resume grace, GATEWAY_RESUME_GRACE_S, has passed: 0.5 s here)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from messages import FinishReason, ModelInfo, decode, subjects
from services.runtime import Settings
from tests.support.gateway import stack
from tests.support.graphql_client import Subscription, post
from tests.support.nats_client import final_chunk

GRACE_S = 0.5
STREAM = """subscription { inferStream(prompt: "Write a very long story about a dragon.", maxNewTokens: 400)
  { token done requestId seq } }"""


@pytest.fixture(scope="module")
async def url(base_settings: Settings, bundled_model: object) -> AsyncIterator[str]:
    async with stack(base_settings, resume_grace_s=GRACE_S) as graphql_url:
        yield graphql_url


async def read_a_few(sub: Subscription) -> str:
    seen = []
    async for message in sub.messages():
        seen.append(message["data"]["inferStream"])
        if len(seen) == 3:
            break
    return str(seen[0]["requestId"])


async def test_disconnect_cancels(nc: Client, url: str) -> None:
    sub = Subscription(url, STREAM)
    await sub.__aenter__()
    request_id = await read_a_few(sub)
    await sub.close()  # the browser tab went away (and did not come back within the grace)
    final = await final_chunk(nc, request_id)
    assert final.finish_reason is FinishReason.CANCELLED
    assert final.usage is not None and final.usage.completion_tokens < 200


async def test_complete_cancels(nc: Client, url: str) -> None:
    async with Subscription(url, STREAM) as sub:
        request_id = await read_a_few(sub)
        await sub.complete()
        final = await final_chunk(nc, request_id)
    assert final.finish_reason is FinishReason.CANCELLED
    assert final.usage is not None and final.usage.completion_tokens < 60


async def test_an_http_client_that_leaves_cancels(nc: Client, url: str) -> None:
    tokens = await nc.subscribe(subjects.TOKENS_WILDCARD)
    essay = asyncio.create_task(
        post(url, 'mutation { infer(prompt: "Write a long essay on rivers.", maxNewTokens: 400) { text } }')
    )
    try:
        first = await tokens.next_msg(timeout=30)  # the generation is running
    finally:
        await tokens.unsubscribe()
    request_id = subjects.request_id_of(first.subject)
    essay.cancel()  # the client gives up: its connection closes
    with contextlib.suppress(asyncio.CancelledError):
        await essay
    final = await final_chunk(nc, request_id)
    assert final.finish_reason is FinishReason.CANCELLED
    assert final.usage is not None and final.usage.completion_tokens < 100


@pytest.mark.parametrize("after_chunks", [1, 1, 5, 20])
async def test_an_http_client_that_leaves_at_any_moment_cancels(nc: Client, url: str, after_chunks: int) -> None:
    """Repeated, at several moments: right after the first token, and mid-answer (issue 14: it was
    intermittent)."""
    tokens = await nc.subscribe(subjects.TOKENS_WILDCARD)
    essay = asyncio.create_task(
        post(url, 'mutation { infer(prompt: "Write a long essay on mountains.", maxNewTokens: 400) { text } }')
    )
    try:
        for _ in range(after_chunks):
            first = await tokens.next_msg(timeout=30)
    finally:
        await tokens.unsubscribe()
    request_id = subjects.request_id_of(first.subject)
    essay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await essay
    final = await final_chunk(nc, request_id)
    assert final.finish_reason is FinishReason.CANCELLED, final


async def active_generations(nc: Client) -> int:
    msg = await nc.request(subjects.INFERENCE_INFO, b"{}", timeout=5)
    return decode(msg.data, ModelInfo).active_generations


async def until_idle(nc: Client, timeout_s: float = 15.0) -> int:
    """Wait until the worker runs nothing; returns what it still runs after `timeout_s` (0 when idle)."""
    for _ in range(int(timeout_s / 0.1)):
        if not (running := await active_generations(nc)):
            break
        await asyncio.sleep(0.1)
    return running


@pytest.mark.parametrize("leave_after_s", [0.0, 0.01, 0.05, 0.2])
@pytest.mark.parametrize("transport", ["http", "websocket"])
async def test_a_client_that_leaves_before_the_first_token_holds_no_slot(
    nc: Client, url: str, transport: str, leave_after_s: float
) -> None:
    """Gone before the accept, or between the accept and the first token: whatever the worker started is
    cancelled, and no slot stays taken."""
    assert await until_idle(nc) == 0
    if transport == "http":
        essay = asyncio.create_task(
            post(url, 'mutation { infer(prompt: "Write a long essay on lakes.", maxNewTokens: 400) { text } }')
        )
        await asyncio.sleep(leave_after_s)
        essay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await essay
    else:
        sub = Subscription(url, STREAM)
        await sub.__aenter__()
        await asyncio.sleep(leave_after_s)
        await sub.close()
    assert await until_idle(nc) == 0, "an abandoned generation still holds a slot"


@pytest.mark.parametrize("after_chunks", [1, 5, 20])
async def test_a_websocket_client_that_leaves_at_any_moment_cancels(nc: Client, url: str, after_chunks: int) -> None:
    sub = Subscription(url, STREAM)
    await sub.__aenter__()
    seen = []
    async for message in sub.messages():
        seen.append(message["data"]["inferStream"])
        if len(seen) == after_chunks:
            break
    await sub.close()
    final = await final_chunk(nc, str(seen[0]["requestId"]))
    assert final.finish_reason is FinishReason.CANCELLED, final
