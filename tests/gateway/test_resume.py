"""inferResume picks an answer up again by requestId after the client's connection dropped (TOKENS replay, then
live), and inferStream's progress events (`stage`) name the requestId before the first token."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.client import Client

from messages import FinishReason
from services.runtime import Settings
from tests.support.gateway import stack
from tests.support.graphql_client import Subscription, post
from tests.support.nats_client import final_chunk

GRACE_S = 20.0
STORY = """subscription($n: Int!) { inferStream(prompt: "Write a long story about a lighthouse keeper.",
  maxNewTokens: $n, temperature: 0) { token done requestId seq stage finishReason } }"""
RESUME = """subscription($id: String!, $from: Int) { inferResume(requestId: $id, fromSeq: $from)
  { token done requestId seq finishReason usage { completionTokens } } }"""


@pytest.fixture(scope="module")
async def url(base_settings: Settings, bundled_model: object) -> AsyncIterator[str]:
    async with stack(base_settings, resume_grace_s=GRACE_S, search_timeout_s=2.0) as graphql_url:
        yield graphql_url


async def events(sub: Subscription, field: str, timeout: float = 60) -> AsyncIterator[dict[str, Any]]:
    async for message in sub.messages(timeout):
        assert "errors" not in message, message
        yield message["data"][field]


async def resumed(url: str, request_id: str, from_seq: int = 0) -> list[dict[str, Any]]:
    """Every event of `inferResume(request_id, from_seq)` until it completes."""
    async with Subscription(url, RESUME, {"id": request_id, "from": from_seq}) as sub:
        return [event async for event in events(sub, "inferResume")]


async def refusal(url: str, variables: dict[str, Any]) -> dict[str, Any]:
    return await first_error(url, RESUME, variables)


async def test_the_first_event_names_the_request_before_any_token(url: str) -> None:
    async with Subscription(url, STORY, {"n": 5}) as sub:
        seen = [event async for event in events(sub, "inferStream")]
    assert seen[0]["stage"] == "GENERATING" and seen[0]["seq"] == -1 and seen[0]["token"] == ""
    assert {event["requestId"] for event in seen} == {seen[0]["requestId"]}
    assert all(event["stage"] is None and event["seq"] >= 0 for event in seen[1:])
    assert seen[-1]["done"]


async def test_without_stage_selected_the_stream_is_tokens_only(url: str) -> None:
    query = """subscription { inferStream(prompt: "Hi", maxNewTokens: 3) { token seq done } }"""
    async with Subscription(url, query) as sub:
        seen = [event async for event in events(sub, "inferStream")]
    assert seen[0]["seq"] >= 0 and seen[-1]["done"]


async def test_web_search_reports_searching_then_generating_with_the_notice(url: str) -> None:
    query = """subscription { inferStream(prompt: "Hi", maxNewTokens: 3, webSearch: true)
      { token seq done stage searchNotice sources { url } } }"""
    async with Subscription(url, query) as sub:
        seen = [event async for event in events(sub, "inferStream")]
    assert [event["stage"] for event in seen[:2]] == ["SEARCHING", "GENERATING"]
    assert seen[0]["searchNotice"] is None
    assert seen[1]["searchNotice"], "no search service runs here: the GENERATING event says the answer is ungrounded"
    assert seen[2]["searchNotice"] == seen[1]["searchNotice"]  # the first token still carries it, as before


async def test_a_dropped_connection_is_resumed_without_a_gap_or_a_repeat(nc: Client, url: str) -> None:
    sub = Subscription(url, STORY, {"n": 80})
    await sub.__aenter__()
    before: list[dict[str, Any]] = []
    async for event in events(sub, "inferStream"):
        before.append(event)
        if len(before) == 6:
            break
    await sub.close()  # the page reloads: no `complete`, the connection just goes
    request_id, last_seq = before[0]["requestId"], before[-1]["seq"]
    await asyncio.sleep(1.0)  # the answer goes on meanwhile
    after = await resumed(url, request_id, last_seq + 1)
    assert after[0]["seq"] >= last_seq + 1 and after[-1]["done"]
    assert after[-1]["finishReason"] != "cancelled", "the generation was cancelled although it was resumable"
    whole = await resumed(url, request_id)  # the finished answer, read back from TOKENS
    assert whole[-1]["done"] and whole[-1]["finishReason"] == after[-1]["finishReason"]
    text = "".join(event["token"] for event in before + after)
    assert text == "".join(event["token"] for event in whole) and len(text) > 40
    assert whole[-1]["usage"]["completionTokens"] == 80


async def test_a_resume_that_drops_too_can_be_resumed_again(url: str) -> None:
    sub = Subscription(url, STORY, {"n": 60})
    await sub.__aenter__()
    first = [event async for event in _take(events(sub, "inferStream"), 3)]
    await sub.close()
    request_id = first[0]["requestId"]
    again = Subscription(url, RESUME, {"id": request_id, "from": first[-1]["seq"] + 1})
    await again.__aenter__()
    second = [event async for event in _take(events(again, "inferResume"), 2)]
    await again.close()
    third = await resumed(url, request_id, second[-1]["seq"] + 1)
    assert third[-1]["done"] and third[-1]["finishReason"] == "length"
    whole = await resumed(url, request_id)
    assert "".join(e["token"] for e in first + second + third) == "".join(e["token"] for e in whole)


async def test_an_explicit_stop_still_cancels_at_once(nc: Client, url: str) -> None:
    async with Subscription(url, STORY, {"n": 400}) as sub:
        seen = [event async for event in _take(events(sub, "inferStream"), 3)]
        await sub.complete()
        final = await asyncio.wait_for(final_chunk(nc, seen[0]["requestId"]), GRACE_S / 2)
    assert final.finish_reason is FinishReason.CANCELLED


async def test_a_dropped_connection_not_resumed_is_cancelled_after_the_grace(base_settings: Settings) -> None:
    async with stack(base_settings, resume_grace_s=1.0) as short:
        sub = Subscription(short, STORY, {"n": 400})
        await sub.__aenter__()
        seen = [event async for event in _take(events(sub, "inferStream"), 3)]
        await sub.close()
        await asyncio.sleep(2.0)
        after = await resumed(short, seen[0]["requestId"], seen[-1]["seq"] + 1)
    assert after[-1]["done"] and after[-1]["finishReason"] == "cancelled"
    assert len("".join(e["token"] for e in after)) < 1000


async def test_unknown_and_malformed_ids_are_refused_in_words(url: str) -> None:
    unknown = await refusal(url, {"id": "0" * 32})
    assert unknown["extensions"]["code"] == "NOT_FOUND"
    assert unknown["message"].startswith("`requestId` names no answer the server keeps: the id is unknown")
    assert unknown["extensions"]["argument"] == "requestId"
    for bad in ("*", "infer.tokens.x", ">", "", "a" * 65):
        error = await refusal(url, {"id": bad})
        assert error["extensions"]["code"] == "BAD_REQUEST", (bad, error)
    negative = await refusal(url, {"id": "0" * 32, "from": -1})
    assert negative["extensions"] == {"code": "BAD_REQUEST", "argument": "fromSeq"}


async def test_a_refused_request_sends_no_progress_event_first(url: str) -> None:
    query = """subscription { inferStream(prompt: "Hi", maxNewTokens: 0) { stage token } }"""
    async with Subscription(url, query) as sub:
        messages = [message async for message in sub.messages(15)]
    assert len(messages) == 1, messages
    assert messages[0]["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "argument": "maxNewTokens"}


async def test_resume_over_http_is_refused_like_any_subscription(url: str) -> None:
    body = await post(url, 'subscription { inferResume(requestId: "x") { token } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def _take(source: AsyncIterator[dict[str, Any]], n: int) -> AsyncIterator[dict[str, Any]]:
    taken = 0
    async for item in source:
        yield item
        taken += 1
        if taken == n:
            return


async def test_an_id_chosen_by_the_client_resumes_even_before_the_first_event(url: str) -> None:
    request_id = uuid.uuid4().hex
    query = """subscription($id: String!) { inferStream(prompt: "Count to twenty.", maxNewTokens: 30,
      requestId: $id) { token seq done } }"""
    sub = Subscription(url, query, {"id": request_id})
    await sub.__aenter__()
    await asyncio.sleep(1.0)  # the page reloads before it read a single event
    await sub.close()
    after = await resumed(url, request_id)
    assert after[0]["requestId"] == request_id and after[-1]["done"]
    assert after[-1]["finishReason"] == "length", "the answer was cancelled although it was resumable"
    reused = await first_error(url, query, {"id": request_id})
    assert reused["extensions"] == {"code": "CONFLICT", "argument": "requestId"}
    assert reused["message"] == "`requestId` is already used by another answer; choose a new one"
    bad = await first_error(url, query, {"id": "a.b"})
    assert bad["extensions"] == {"code": "BAD_REQUEST", "argument": "requestId"}


async def first_error(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with Subscription(url, query, variables) as sub:
        messages = [message async for message in sub.messages(15)]
    assert len(messages) == 1 and "errors" in messages[0], messages
    error: dict[str, Any] = messages[0]["errors"][0]
    return error
