"""Tool calls through `/v1`: `tools`, `tool_choice` and `parallel_tool_calls` reach the worker; its finished
calls come back as `message.tool_calls` (whole) or `delta.tool_calls` (streamed), parsed by the openai client
and by LangChain's `bind_tools`; a conversation's tool calls and tool results go to the worker as turns;
malformed tools and a `tool_choice` naming no offered function are 400s naming `param`. Against a scripted
worker (tests/openai/scripted.py)."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from messages import ChatMessage, ErrorCode, ErrorMessage, FinishReason
from messages.inference import FunctionTool, ToolCall, ToolChoice
from tests.openai.scripted import MODEL, SCRIPTS, ScriptedV1, turn
from tests.support.scripted_worker import Script, piece

WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CALL = ToolCall(id="call_0123456789abcdef01234567", name="get_weather", arguments='{"city": "Paris"}')
SECOND = ToolCall(id="call_76543210fedcba9876543210", name="get_weather", arguments='{"city": "Oslo"}')


@pytest.fixture
def client(v1: ScriptedV1) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=v1.url, api_key="unused", max_retries=0)


def calls_script() -> Script:
    return Script(pieces=[piece(tool_calls=[CALL]), piece(tool_calls=[SECOND], finish_reason=FinishReason.TOOL_CALLS)])


async def test_calls_come_back_whole(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["weather in Paris and Oslo?"] = calls_script()
    done = await client.chat.completions.create(
        model=MODEL, messages=turn("weather in Paris and Oslo?"), tools=[WEATHER], tool_choice="required"
    )
    choice = done.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [(c.id, c.type, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (CALL.id, "function", "get_weather", {"city": "Paris"}),
        (SECOND.id, "function", "get_weather", {"city": "Oslo"}),
    ]
    asked = v1.asked("weather in Paris and Oslo?")
    assert asked.tools == [
        FunctionTool("get_weather", "The weather in a city", WEATHER["function"]["parameters"], strict=False)
    ]
    assert asked.tool_choice == ToolChoice(mode="required") and asked.parallel_tool_calls


async def test_calls_stream_as_deltas(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["streamed weather"] = Script(
        pieces=[
            piece("Let me look. "),
            piece(tool_calls=[CALL]),
            piece(tool_calls=[SECOND], finish_reason=FinishReason.TOOL_CALLS),
        ]
    )
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=turn("streamed weather"),
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
        stream=True,
    )
    text, calls, finishes = "", {}, []
    async for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                assert call.function is not None
                calls[call.index] = (call.id, call.function.name, call.function.arguments)
            finishes.append(choice.finish_reason)
    assert text == "Let me look. "
    assert calls == {0: (CALL.id, CALL.name, CALL.arguments), 1: (SECOND.id, SECOND.name, SECOND.arguments)}
    assert finishes[-1] == "tool_calls" and not any(finishes[:-1])
    asked = v1.asked("streamed weather")
    assert asked.tool_choice == ToolChoice(mode="function", name="get_weather") and not asked.parallel_tool_calls


async def test_a_tool_loop_sends_the_calls_and_results_back(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["loop: weather?"] = Script(["It is sunny in Paris."])
    messages: list[Any] = [
        *turn("loop: weather?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": CALL.id, "type": "function", "function": {"name": CALL.name, "arguments": CALL.arguments}}
            ],
        },
        {"role": "tool", "tool_call_id": CALL.id, "content": [{"type": "text", "text": "sunny, 21 C"}]},
    ]
    done = await client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert done.choices[0].message.content == "It is sunny in Paris." and done.choices[0].finish_reason == "stop"
    assert v1.asked("loop: weather?").messages == [
        ChatMessage(role="user", content="loop: weather?"),
        ChatMessage(role="assistant", content="", tool_calls=[CALL]),
        ChatMessage(role="tool", content="sunny, 21 C", tool_call_id=CALL.id),
    ]


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


async def test_langchain_bind_tools_and_a_two_step_loop(v1: ScriptedV1) -> None:
    SCRIPTS["langchain: weather in Paris?"] = Script(
        pieces=[piece(tool_calls=[CALL], finish_reason=FinishReason.TOOL_CALLS)]
    )
    llm = ChatOpenAI(model=MODEL, base_url=v1.url, api_key="unused", max_retries=0)  # type: ignore[arg-type]
    bound = llm.bind_tools([get_weather], tool_choice="required")
    question = HumanMessage("langchain: weather in Paris?")
    called = await bound.ainvoke([question])
    assert called.tool_calls == [{"name": "get_weather", "args": {"city": "Paris"}, "id": CALL.id, "type": "tool_call"}]
    asked = v1.asked("langchain: weather in Paris?")
    assert asked.tools is not None and asked.tools[0].name == "get_weather"
    assert asked.tool_choice == ToolChoice(mode="required")
    SCRIPTS["langchain: weather in Paris?"] = Script(["Sunny."])
    result = get_weather.invoke(called.tool_calls[0]["args"])
    final = await bound.ainvoke([question, called, ToolMessage(result, tool_call_id=CALL.id)])
    assert final.content == "Sunny."
    assert [m.role for m in v1.asked("langchain: weather in Paris?").messages or []] == ["user", "assistant", "tool"]


def _call(call_id: str = CALL.id, name: str = CALL.name, arguments: object = CALL.arguments) -> dict[str, Any]:
    """A past call as OpenAI writes it."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        (
            {"tools": [{**WEATHER, "function": {**WEATHER["function"], "parameters": []}}]},
            "tools[0].function.parameters",
        ),
        (
            {"tools": [WEATHER, {**WEATHER, "function": {"name": "f", "parameters": {"type": "array"}}}]},
            "tools[1].function.parameters",
        ),
        ({"tools": [{**WEATHER, "function": {"name": "has space"}}]}, "tools[0].function.name"),
        ({"tools": [{"type": "retrieval"}]}, "tools[0]"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_time"}}}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": [WEATHER] * 2}, "tools[1].function.name"),  # one name twice
        ({"tools": [{**WEATHER, "function": {"name": f"f{i}"}} for i in range(5)]}, "tools"),  # GATEWAY_MAX_TOOLS 4
        ({"tools": [WEATHER], "parallel_tool_calls": "yes"}, "parallel_tool_calls"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"messages": [{"role": "tool", "tool_call_id": "c", "content": None}]}, "messages[0].content"),
        ({"messages": [{"role": "tool", "tool_call_id": "c"}]}, "messages[0].content"),
        (
            {"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f"}}]}]},
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            {"messages": [*turn("x"), {"role": "assistant", "tool_calls": [_call(arguments={"city": "Paris"})]}]},
            "messages[1].tool_calls[0].function.arguments",
        ),
        (
            {"messages": [{"role": "assistant", "tool_calls": [_call(name="a b")]}]},
            "messages[0].tool_calls[0].function.name",
        ),
        ({"messages": [{"role": "assistant", "tool_calls": [_call(call_id="")]}]}, "messages[0].tool_calls[0].id"),
        ({"messages": [{"role": "user", "content": "x", "tool_calls": []}]}, "messages[0].tool_calls"),
        # a call asked for, and no tools to call (OpenAI: "only allowed when tools are specified")
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tool_choice": {"type": "function", "function": {"name": "get_weather"}}}, "tool_choice"),
    ],
)
async def test_bad_tools_are_400_naming_the_param(
    client: openai.AsyncOpenAI, extra: dict[str, object], param: str
) -> None:
    arguments: dict[str, Any] = {"model": MODEL, "messages": turn("refused"), **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(**arguments)
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == param and body["message"], body


@pytest.mark.parametrize("choice", ["auto", "none"])
async def test_a_tool_choice_that_asks_for_no_call_needs_no_tools(
    client: openai.AsyncOpenAI, v1: ScriptedV1, choice: str
) -> None:
    done = await client.chat.completions.create(model=MODEL, messages=turn(f"no tools, {choice}"), tool_choice=choice)  # type: ignore[arg-type]
    assert done.choices[0].message.content == "ok" and not v1.asked(f"no tools, {choice}").tools


@pytest.mark.parametrize(
    ("field", "param"),
    [
        ("messages[2].tool_call_id", "messages[2].tool_call_id"),
        ("messages[1].tool_calls[0].arguments", "messages[1].tool_calls[0].function.arguments"),
        ("messages[1].tool_calls[0].function.arguments", "messages[1].tool_calls[0].function.arguments"),
    ],
)
async def test_the_workers_refusal_of_a_turn_names_its_path(client: openai.AsyncOpenAI, field: str, param: str) -> None:
    """The worker names a turn by its 0-based path; OpenAI's is the same, with a call's fields under `function`."""
    SCRIPTS[f"bad turn {field}"] = Script([], refuse=ErrorMessage(ErrorCode.BAD_REQUEST, "is wrong", field))
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=turn(f"bad turn {field}"))
    assert caught.value.body == {
        "message": f"`{param}` is wrong",
        "type": "invalid_request_error",
        "param": param,
        "code": "invalid_value",
    }


async def test_the_workers_refusal_of_a_tool_names_the_openai_param(client: openai.AsyncOpenAI) -> None:
    SCRIPTS["bad schema"] = Script(
        [], refuse=ErrorMessage(ErrorCode.BAD_REQUEST, "is not a schema the engine can compile", "tools[0].parameters")
    )
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=turn("bad schema"), tools=[WEATHER])
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == "tools[0].function.parameters"
    assert body["message"] == "`tools[0].function.parameters` is not a schema the engine can compile"
