"""A chat that finds every generation slot taken waits for one (up to GATEWAY_BUSY_WAIT_S), then gets BUSY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.runtime import Settings
from tests.conftest import worker_settings
from tests.support.gateway import gateway, stack
from tests.support.graphql_client import Subscription, post

STORY = """subscription($n: Int!) { inferStream(prompt: "Write a long story about a dragon.", maxNewTokens: $n)
  { token done finishReason } }"""
CAPITAL = 'mutation { infer(prompt: "What is the capital of France?") { text finishReason } }'


@pytest.fixture(scope="module")
async def urls(base_settings: Settings, bundled_model: object) -> AsyncIterator[tuple[str, str]]:
    """One worker with a single slot; a patient gateway (default wait) and one that waits 0.3 s."""
    async with stack(base_settings, max_concurrency=1) as patient:
        async with gateway(worker_settings(base_settings), busy_wait_s=0.3) as impatient:
            yield patient, impatient


async def first_token(sub: Subscription) -> None:
    async for message in sub.messages():
        assert "errors" not in message, message
        return


async def until_done(sub: Subscription, events: list[str]) -> dict[str, Any]:
    async for message in sub.messages():
        chunk = message["data"]["inferStream"]
        if chunk["done"]:
            events.append("story done")
            return dict(chunk)
    raise AssertionError("the story's stream ended without a done chunk")


async def test_a_second_chat_waits_for_the_slot_and_answers(urls: tuple[str, str]) -> None:
    patient, _ = urls
    events: list[str] = []
    async with Subscription(patient, STORY, {"n": 40}) as story:
        await first_token(story)  # the only slot is taken now

        async def ask() -> dict[str, Any]:
            body = await post(patient, CAPITAL)
            events.append("capital answered")
            return body

        capital = asyncio.create_task(ask())
        final = await until_done(story, events)
        body = await capital
    assert final["finishReason"] == "length"
    assert "errors" not in body, body
    assert "Paris" in body["data"]["infer"]["text"]
    # it was not refused while the story ran: it waited, and was answered after the story ended
    assert events == ["story done", "capital answered"]


async def test_gives_up_with_busy_after_the_wait_and_serves_later(urls: tuple[str, str]) -> None:
    patient, impatient = urls
    async with Subscription(patient, STORY, {"n": 400}) as story:
        await first_token(story)
        body = await post(impatient, CAPITAL)
        await story.complete()  # cancels the story, freeing the slot
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BUSY"
    assert error["message"] == "every inference worker stayed busy for 0.3 s; try again in a moment"
    assert "Traceback" not in str(body)
    # nothing was lost: the slot comes back and the same gateway answers
    for _ in range(50):
        again = await post(impatient, CAPITAL)
        if "errors" not in again:
            break
        assert again["errors"][0]["extensions"]["code"] == "BUSY", again
        await asyncio.sleep(0.2)  # the cancelled story is still leaving its slot
    assert "Paris" in again["data"]["infer"]["text"]


async def active_generations(url: str) -> int:
    body = await post(url, "{ modelInfo { activeGenerations } }")
    return int(body["data"]["modelInfo"]["activeGenerations"])


async def test_a_waiting_chat_that_leaves_never_starts(urls: tuple[str, str]) -> None:
    patient, _ = urls
    async with Subscription(patient, STORY, {"n": 400}) as story:
        await first_token(story)
        waiting = Subscription(patient, STORY, {"n": 400})
        await waiting.__aenter__()
        await asyncio.sleep(1.0)  # the gateway is asking the queue group again and again for it
        await waiting.close()  # the browser tab went away while it waited
        await story.complete()  # the slot frees
    for _ in range(50):
        if await active_generations(patient) == 0:
            break
        await asyncio.sleep(0.2)
    # had the gateway kept asking for the departed chat, the freed slot would run it (400 tokens, many seconds)
    await asyncio.sleep(2.0)
    assert await active_generations(patient) == 0
