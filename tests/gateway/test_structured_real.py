"""Issue 24 through GraphQL on the bundled model: `infer` with a JSON schema answers JSON valid against it,
with `tools` and `toolChoice` a parsed call, with `n` one answer per choice and, when `logprobs` is selected,
each token's log-probability; `inferStream` streams a forced call as `toolCalls`. A real worker; the
translation alone is tested against a scripted one (test_generation_features.py)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest

from services.runtime import Settings
from tests.support.gateway import stack
from tests.support.graphql_client import Subscription, post

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["name", "population"],
}
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
INFER = """mutation($p: String!, $schema: JSON, $tools: [ToolInput!], $choice: String, $n: Int, $top: Int) {
  infer(prompt: $p, jsonSchema: $schema, tools: $tools, toolChoice: $choice, n: $n, topLogprobs: $top, maxNewTokens: 48) {
    text finishReason toolCalls { id name arguments }
    choices { index text finishReason logprobs { token logprob top { token logprob } } } } }"""


@pytest.fixture(scope="module")
async def url(own_settings: Settings) -> AsyncIterator[str]:
    async with stack(own_settings) as graphql_url:
        yield graphql_url


async def infer(url: str, **variables: Any) -> dict[str, Any]:
    body = await post(url, INFER, variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["infer"]
    return result


async def test_a_json_schema_answer_is_valid_json_for_it(url: str) -> None:
    result = await infer(url, p="Name a city and its population, as JSON.", schema=SCHEMA)
    assert result["finishReason"] == "stop"
    jsonschema.validate(json.loads(result["text"]), SCHEMA)


async def test_a_required_tool_is_called_with_arguments_for_its_schema(url: str) -> None:
    result = await infer(url, p="Weather in Paris?", tools=[WEATHER], choice="required")
    assert result["finishReason"] == "tool_calls" and result["text"] == ""
    [call] = result["toolCalls"]
    assert call["name"] == "get_weather" and call["id"].startswith("call_")
    jsonschema.validate(json.loads(call["arguments"]), WEATHER["parameters"])


async def test_n_answers_with_logprobs_when_selected(url: str) -> None:
    result = await infer(url, p="Hi", n=2, top=2)
    assert [choice["index"] for choice in result["choices"]] == [0, 1]
    for choice in result["choices"]:
        assert choice["logprobs"] and all(math.isfinite(entry["logprob"]) for entry in choice["logprobs"])
    # greedy: both answers are the one answer, and each token is the most likely at its place
    assert result["choices"][0]["text"] == result["choices"][1]["text"]
    assert all(
        len(entry["top"]) == 2 and entry["top"][0]["token"] == entry["token"]
        for entry in result["choices"][0]["logprobs"]
    )


async def test_infer_stream_sends_a_forced_call_as_tool_calls(url: str) -> None:
    query = """subscription($tools: [ToolInput!]) {
      inferStream(prompt: "Weather in Paris?", tools: $tools, toolChoice: "get_weather", maxNewTokens: 48) {
        token done finishReason toolCalls { name arguments } } }"""
    async with Subscription(url, query, {"tools": [WEATHER]}) as sub:
        payloads = [m async for m in sub.messages(timeout=120)]
    assert all("errors" not in p for p in payloads), payloads
    chunks = [p["data"]["inferStream"] for p in payloads]
    calls = [call for chunk in chunks for call in chunk["toolCalls"] or []]
    assert [call["name"] for call in calls] == ["get_weather"]
    assert chunks[-1]["done"] and chunks[-1]["finishReason"] == "tool_calls"
    assert "".join(chunk["token"] for chunk in chunks) == ""
