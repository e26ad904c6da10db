"""Issue 24 end to end on the bundled model: structured outputs, tool calls, logprobs and `n` through `/v1`,
called as apps and agents call it, with the real `openai` package and LangChain's `langchain-openai` (the
README's examples), against a real inference worker (the grammar engine's masks in its batch). The front
ends' translation is tested against a scripted worker beside this file; this is the whole path.

A module's own nats-server with the real registry (one adapter), a bundled-model worker and a gateway.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import openai
import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from services.runtime import BUNDLED_MODEL_ID

MODEL = BUNDLED_MODEL_ID
ASK = "Name a city and its population, as JSON."  # the README's; "A city?" gets 135M counting zeros
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class City(BaseModel):  # the README's example
    name: str
    population: int


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@pytest.fixture
def client(base_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)


@pytest.fixture
def llm(base_url: str) -> ChatOpenAI:
    return ChatOpenAI(model=MODEL, base_url=base_url, api_key="unused", temperature=0, max_tokens=64)  # type: ignore[arg-type]


async def test_langchain_structured_output_is_a_valid_object(llm: ChatOpenAI) -> None:
    city = await llm.with_structured_output(City, method="json_schema").ainvoke(ASK)
    assert isinstance(city, City) and city.name


async def test_openai_parse_gives_the_model_object(client: openai.AsyncOpenAI) -> None:
    city = await client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": ASK}], response_format=City, max_tokens=64
    )
    choice = city.choices[0]
    assert choice.finish_reason == "stop" and isinstance(choice.message.parsed, City)


async def test_langchain_required_tool_call_then_the_tool_result_gives_an_answer(llm: ChatOpenAI) -> None:
    question = HumanMessage("Weather in Paris?")
    called = await llm.bind_tools([get_weather], tool_choice="required").ainvoke([question])
    assert [call["name"] for call in called.tool_calls] == ["get_weather"]
    args = called.tool_calls[0]["args"]
    assert isinstance(args.get("city"), str) and args["city"]
    result = ToolMessage(get_weather.invoke(args), tool_call_id=called.tool_calls[0]["id"])
    answer = await llm.bind_tools([get_weather], tool_choice="none").ainvoke([question, called, result])
    assert not answer.tool_calls and isinstance(answer.content, str) and answer.content.strip()


async def test_a_named_function_is_called_streamed_as_a_tool_call_delta(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=64,
        stream=True,
    )
    calls, finishes = [], []
    async for chunk in stream:
        for choice in chunk.choices:
            calls.extend(choice.delta.tool_calls or [])
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert finishes == ["tool_calls"] and len(calls) == 1
    assert calls[0].function is not None and calls[0].function.name == "get_weather"
    assert isinstance(json.loads(calls[0].function.arguments or "")["city"], str)


async def test_n_gives_that_many_answers_each_with_its_index(client: openai.AsyncOpenAI) -> None:
    three = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}], n=3, temperature=0.8, seed=7, max_tokens=16
    )
    assert [choice.index for choice in three.choices] == [0, 1, 2]
    assert all(choice.message.content for choice in three.choices)
    assert three.usage is not None and three.usage.completion_tokens <= 3 * 16


async def test_greedy_logprobs_are_finite_and_the_chosen_token_is_the_most_likely(client: openai.AsyncOpenAI) -> None:
    reply = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        logprobs=True,
        top_logprobs=3,
        temperature=0,
        max_tokens=12,
    )
    content = reply.choices[0].logprobs.content if reply.choices[0].logprobs else None
    assert content
    for entry in content:
        assert math.isfinite(entry.logprob) and entry.logprob <= 0
        assert len(entry.top_logprobs) == 3 and entry.top_logprobs[0].token == entry.token
        assert entry.top_logprobs[0].logprob == pytest.approx(entry.logprob, abs=1e-5)


async def _answer(client: openai.AsyncOpenAI, **asked: Any) -> tuple[str, str, list[str]]:
    reply = await client.chat.completions.create(temperature=0, max_tokens=40, **asked)
    message = reply.choices[0].message
    calls = [f"{c.function.name}{c.function.arguments}" for c in message.tool_calls or []]  # type: ignore[union-attr]
    return message.content or "", reply.choices[0].finish_reason, calls


async def test_a_batch_mixing_a_schema_on_an_adapter_a_tool_call_and_a_free_row_answers_each_as_alone(
    client: openai.AsyncOpenAI,
) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "city", "schema": City.model_json_schema()}}
    asks: list[dict[str, Any]] = [
        {"model": "pirate", "messages": [{"role": "user", "content": ASK}], "response_format": schema},
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [WEATHER_TOOL],
            "tool_choice": "required",
        },
        {"model": MODEL, "messages": [{"role": "user", "content": "Tell me about Paris."}]},
    ]
    alone = [await _answer(client, **ask) for ask in asks]
    together = await asyncio.gather(*(_answer(client, **ask) for ask in asks))
    assert list(together) == alone
    # the random adapter may run past 40 tokens inside a string; whatever it wrote, the grammar held it to the schema
    assert alone[0][0].startswith('{"name": "') and alone[1][1] == "tool_calls" and alone[2][0]
    if alone[0][1] == "stop":
        City.model_validate_json(alone[0][0])


@pytest.mark.parametrize(
    ("asked", "param"),
    [
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "objec"}}}},
            "response_format",
        ),
        (
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": "f",
                            "parameters": {"type": "object", "properties": {"a": {"type": "strin"}}},
                        },
                    }
                ],
                "tool_choice": "required",
            },
            "tools[0].function.parameters",
        ),
        ({"tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"n": 9}, "n"),
    ],
)
async def test_what_cannot_run_is_a_400_naming_its_param(
    client: openai.AsyncOpenAI, asked: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=4, **asked
        )
    body = refused.value.body
    assert isinstance(body, dict) and body.get("param") == param, body
