"""logprobs through NATS on the bundled model: each chunk carries one entry per token its text came from, every
value finite and at most 0; greedy, the chosen token is the most likely of its top list; a constrained answer's
top lists hold only what the grammar allows; a forced tool call's tokens have no entries (as OpenAI's)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from messages import (
    Accept,
    ChoiceConstraint,
    FinishReason,
    FunctionTool,
    GenerateRequest,
    GenerationParams,
    TokenChunk,
    TokenLogprob,
    ToolChoice,
)
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings
from tests.support.nats_client import collect, new_id, start, text_of


@pytest.fixture(scope="module")
async def worker(base_settings: Settings, bundled_model: object) -> AsyncIterator[Settings]:
    settings = worker_settings(base_settings)
    async with running(InferenceActor(settings, InferenceConfig(max_concurrency=2, warm_up=False)), settings):
        yield settings


async def answer(nc: Client, request: GenerateRequest) -> list[TokenChunk]:
    reply, sub = await start(nc, request)
    assert isinstance(reply, Accept), reply
    return await collect(sub)


def entries(chunks: list[TokenChunk]) -> list[TokenLogprob]:
    return [entry for chunk in chunks for entry in chunk.logprobs or []]


async def test_greedy_logprobs_are_finite_and_the_chosen_token_is_the_top_one(nc: Client, worker: Settings) -> None:
    params = GenerationParams(max_new_tokens=16, logprobs=True, top_logprobs=3)
    chunks = await answer(
        nc, GenerateRequest(request_id=new_id(), prompt="What is the capital of France?", params=params)
    )
    final = chunks[-1]
    found = entries(chunks)
    assert final.usage is not None
    ended_turn = final.finish_reason is FinishReason.STOP  # as OpenAI: the end-of-turn token has no entry
    assert len(found) == final.usage.completion_tokens - ended_turn
    assert "".join(e.token for e in found) == text_of(chunks)
    for chunk in chunks[:-1]:
        assert chunk.logprobs, "a text chunk carries the entries of its tokens"
    for entry in found:
        assert math.isfinite(entry.logprob) and entry.logprob <= 0
        assert 1 <= len(entry.top) <= 3
        assert all(math.isfinite(t.logprob) and t.logprob <= 0 for t in entry.top)
        assert [t.logprob for t in entry.top] == sorted((t.logprob for t in entry.top), reverse=True)
        assert entry.top[0].token == entry.token and entry.top[0].logprob == pytest.approx(entry.logprob)


async def test_logprobs_are_the_models_own_before_temperature(nc: Client, worker: Settings) -> None:
    """A seeded sample at temperature 1.5 reports the same value for a token as a greedy answer that chose it."""
    prompt = "What is the capital of France?"
    greedy = entries(
        await answer(
            nc,
            GenerateRequest(
                request_id=new_id(), prompt=prompt, params=GenerationParams(max_new_tokens=1, logprobs=True)
            ),
        )
    )
    hot = GenerationParams(max_new_tokens=1, logprobs=True, top_logprobs=5, temperature=1.5, seed=3)
    sampled = entries(await answer(nc, GenerateRequest(request_id=new_id(), prompt=prompt, params=hot)))
    tops = {t.token: t.logprob for t in sampled[0].top}
    assert tops[greedy[0].token] == pytest.approx(greedy[0].logprob, abs=1e-4)


async def test_a_constrained_answer_lists_only_allowed_tokens(nc: Client, worker: Settings) -> None:
    params = GenerationParams(max_new_tokens=8, logprobs=True, top_logprobs=5)
    request = GenerateRequest(
        request_id=new_id(), prompt="Is the sky blue?", constraint=ChoiceConstraint(["yes", "no"]), params=params
    )
    chunks = await answer(nc, request)
    assert chunks[-1].finish_reason is FinishReason.STOP and text_of(chunks) in ("yes", "no")
    assert "".join(e.token for e in entries(chunks)) == text_of(chunks)  # nothing for the end of turn
    first = entries(chunks)[0]
    assert {t.token for t in first.top} <= {"yes", "no", "y", "n", "ye"}  # the mask's, renormalised
    assert math.log(sum(math.exp(t.logprob) for t in first.top)) == pytest.approx(0.0, abs=1e-4)


async def test_a_tool_calls_tokens_have_no_entries(nc: Client, worker: Settings) -> None:
    weather = FunctionTool(
        name="get_weather",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    request = GenerateRequest(
        request_id=new_id(),
        prompt="What is the weather in Lyon?",
        tools=[weather],
        tool_choice=ToolChoice(mode="required"),
        params=GenerationParams(max_new_tokens=48, logprobs=True, top_logprobs=1),
    )
    chunks = await answer(nc, request)
    assert chunks[-1].finish_reason is FinishReason.TOOL_CALLS, chunks[-1]
    calls = [call for chunk in chunks for call in chunk.tool_calls or []]
    assert [call.name for call in calls] == ["get_weather"]
    assert entries(chunks) == [] and text_of(chunks) == ""  # the whole answer is the call


async def test_the_entries_bytes_join_to_the_text_where_tokens_split_a_character(nc: Client, worker: Settings) -> None:
    params = GenerationParams(max_new_tokens=8, logprobs=True, top_logprobs=2)
    request = GenerateRequest(
        request_id=new_id(), prompt="An emoji?", constraint=ChoiceConstraint(["\U0001f469"]), params=params
    )
    chunks = await answer(nc, request)
    assert text_of(chunks) == "\U0001f469"
    found = entries(chunks)
    assert len(found) > 1 and all(entry.token == "\ufffd" for entry in found)  # the emoji's byte tokens
    assert b"".join(bytes(entry.bytes or entry.token.encode()) for entry in found) == "\U0001f469".encode()
    assert all(top.bytes is not None for entry in found for top in entry.top if top.token == "\ufffd")
