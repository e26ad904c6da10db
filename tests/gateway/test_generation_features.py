"""GraphQL's side of issue 24: `infer`/`inferStream` take `jsonSchema`, `regex`, `choice`, `tools`, `toolChoice`,
`n` and `topLogprobs`, and the worker is asked for logprobs when the caller selects `logprobs`; chunks carry
their choice's `index`, their `logprobs` and finished `toolCalls`, and `infer` answers per choice. Against a
scripted worker (tests/support/scripted_worker.py)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from messages import ChatMessage, ErrorCode, ErrorMessage, FinishReason, GenerateRequest
from messages.inference import (
    ChoiceConstraint,
    FunctionTool,
    JsonConstraint,
    RegexConstraint,
    TokenLogprob,
    ToolCall,
    ToolChoice,
    TopLogprob,
)
from services.runtime import Settings
from tests.openai.scripted import SCRIPTS, by_key, lp
from tests.support.gateway import gateway
from tests.support.graphql_client import Subscription, post
from tests.support.scripted_worker import Script, ScriptedWorker, piece, scripted_worker

CALL = ToolCall(id="call_0123456789abcdef01234567", name="get_weather", arguments='{"city": "Paris"}')
WEATHER = {"name": "get_weather", "description": "The weather", "parameters": {"type": "object"}}
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
STREAM = """subscription($p: String!, $schema: JSON, $tools: [ToolInput!], $choice: String, $n: Int, $top: Int) {
  inferStream(prompt: $p, jsonSchema: $schema, tools: $tools, toolChoice: $choice, n: $n, topLogprobs: $top) {
    index token seq done finishReason logprobs { token logprob top { token logprob } }
    toolCalls { id name arguments } usage { completionTokens } } }"""


@pytest.fixture(scope="module")
async def worker(own_settings: Settings) -> AsyncIterator[ScriptedWorker]:
    async with scripted_worker(own_settings.nats_url, by_key) as scripted:
        yield scripted


@pytest.fixture(scope="module")
async def url(own_settings: Settings, worker: ScriptedWorker) -> AsyncIterator[str]:
    async with gateway(own_settings, max_choices=4) as graphql_url:
        yield graphql_url


def asked(worker: ScriptedWorker, prompt: str) -> GenerateRequest:
    return next(
        r for r in reversed(worker.requests) if r.prompt == prompt or (r.messages and r.messages[-1].content == prompt)
    )


async def events(url: str, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    async with Subscription(url, query, variables) as sub:
        return [m async for m in sub.messages(timeout=30)]


async def test_infer_stream_with_n_schema_tools_and_logprobs(url: str, worker: ScriptedWorker) -> None:
    SCRIPTS["gql: everything"] = Script(
        pieces=[
            piece('{"city": ', 0, logprobs=[lp('{"city": ', -0.5, ('{"city": ', -0.5), ("{", -1.0))]),
            piece("", 1, tool_calls=[CALL], finish_reason=FinishReason.TOOL_CALLS),
            piece('"Paris"}', 0, logprobs=[lp('"Paris"}', -0.25)], finish_reason=FinishReason.STOP),
        ]
    )
    variables = {"p": "gql: everything", "schema": SCHEMA, "tools": [WEATHER], "choice": "auto", "n": 2, "top": 2}
    received = [m["data"]["inferStream"] for m in await events(url, STREAM, variables)]
    by_index: dict[int, list[dict[str, Any]]] = {}
    for chunk in received:
        by_index.setdefault(chunk["index"], []).append(chunk)
    assert "".join(c["token"] for c in by_index[0]) == '{"city": "Paris"}'
    assert [lp for c in by_index[0] for lp in c["logprobs"]] == [
        {
            "token": '{"city": ',
            "logprob": -0.5,
            "top": [{"token": '{"city": ', "logprob": -0.5}, {"token": "{", "logprob": -1.0}],
        },
        {"token": '"Paris"}', "logprob": -0.25, "top": []},
    ]
    assert [c["toolCalls"] for c in by_index[1]] == [[{"id": CALL.id, "name": CALL.name, "arguments": CALL.arguments}]]
    assert by_index[1][-1]["finishReason"] == "tool_calls" and by_index[0][-1]["finishReason"] == "stop"
    assert received[-1]["done"] and received[-1]["usage"] == {"completionTokens": 3}
    request = asked(worker, "gql: everything")
    assert request.constraint == JsonConstraint(SCHEMA)
    assert request.tools == [FunctionTool("get_weather", "The weather", {"type": "object"})]
    assert request.tool_choice == ToolChoice(mode="auto")
    assert (request.params.n, request.params.logprobs, request.params.top_logprobs) == (2, True, 2)


async def test_logprobs_only_when_selected(url: str, worker: ScriptedWorker) -> None:
    query = 'subscription { inferStream(prompt: "gql: plain", regex: "[a-z]+") { token done } }'
    await events(url, query, {})
    request = asked(worker, "gql: plain")
    assert not request.params.logprobs and request.constraint == RegexConstraint("[a-z]+")


async def test_infer_answers_per_choice(url: str, worker: ScriptedWorker) -> None:
    SCRIPTS["gql: two"] = Script(
        pieces=[
            piece("yes", 0, logprobs=[lp("yes", -0.1)], finish_reason=FinishReason.STOP),
            piece("no", 1, logprobs=[lp("no", -2.4)], finish_reason=FinishReason.STOP),
        ]
    )
    query = """mutation { infer(prompt: "gql: two", choice: ["yes", "no"], n: 2) {
      text finishReason toolCalls { id } logprobs { token logprob }
      choices { index text finishReason logprobs { token logprob } } } }"""
    result = (await post(url, query))["data"]["infer"]
    assert result["text"] == "yes" and result["finishReason"] == "stop" and result["toolCalls"] == []
    assert result["logprobs"] == [{"token": "yes", "logprob": -0.1}]
    assert [(c["index"], c["text"], c["logprobs"][0]["logprob"]) for c in result["choices"]] == [
        (0, "yes", -0.1),
        (1, "no", -2.4),
    ]
    request = asked(worker, "gql: two")
    assert request.constraint == ChoiceConstraint(["yes", "no"]) and request.params.logprobs and request.params.n == 2


async def test_logprobs_bytes_are_the_tokens_own(url: str, worker: ScriptedWorker) -> None:
    split = [TokenLogprob("\ufffd", -0.1, [TopLogprob("\ufffd", -0.1, [0xF0, 0x9F])], [0xF0, 0x9F])]
    split += [TokenLogprob("\ufffd", -0.2, bytes=[0x91]), TokenLogprob("\ufffd", -0.3, bytes=[0xA9])]
    SCRIPTS["gql: emoji"] = Script(pieces=[piece("é", logprobs=[lp("é", -0.5)]), piece("\U0001f469", logprobs=split)])
    query = 'mutation { infer(prompt: "gql: emoji") { text logprobs { token bytes top { bytes } } } }'
    result = (await post(url, query))["data"]["infer"]
    assert [entry["bytes"] for entry in result["logprobs"]] == [[0xC3, 0xA9], [0xF0, 0x9F], [0x91], [0xA9]]
    assert bytes(b for entry in result["logprobs"] for b in entry["bytes"]).decode() == result["text"]
    assert result["logprobs"][1]["top"] == [{"bytes": [0xF0, 0x9F]}]


async def test_tool_turns_in_the_conversation(url: str, worker: ScriptedWorker) -> None:
    query = """mutation($m: [ChatMessageInput!]) { infer(prompt: "gql: and now?", messages: $m,
      tools: [{name: "get_weather", parameters: {type: "object"}}], toolChoice: "get_weather") { text } }"""
    turns = [
        {"role": "USER", "content": "weather?"},
        {"role": "ASSISTANT", "toolCalls": [{"id": CALL.id, "name": CALL.name, "arguments": CALL.arguments}]},
        {"role": "TOOL", "content": "sunny", "toolCallId": CALL.id},
    ]
    assert "errors" not in await post(url, query, {"m": turns})
    request = asked(worker, "gql: and now?")
    assert request.messages == [
        ChatMessage(role="user", content="weather?"),
        ChatMessage(role="assistant", tool_calls=[CALL]),
        ChatMessage(role="tool", content="sunny", tool_call_id=CALL.id),
        ChatMessage(role="user", content="gql: and now?"),
    ]
    assert request.tool_choice == ToolChoice(mode="function", name="get_weather")


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ('jsonSchema: {type: "object"}, regex: "a"', "jsonSchema"),
        ('regex: "a", choice: ["a"]', "regex"),
        ("jsonSchema: [1]", "jsonSchema"),
        ('regex: ""', "regex"),
        ("choice: []", "choice"),
        ('tools: [{name: "f"}], toolChoice: "g"', "toolChoice"),
        ('toolChoice: "required"', "toolChoice"),  # no tools: no function to call
        ('toolChoice: "f"', "toolChoice"),
        ('toolChoice: "auto"', None),  # asks for no call: accepted without tools
        ('toolChoice: "none"', None),
        ('tools: [{name: "f", parameters: {type: "array"}}]', "tools"),
        ('tools: [{name: "f"}, {name: "f"}]', "tools"),
        ('tools: [{name: "f"}], toolChoice: "required", regex: "a"', "regex"),  # one grammar per answer
        ("n: 5", "n"),  # over GATEWAY_MAX_CHOICES (4 here)
        ("topLogprobs: 21", "topLogprobs"),
        ("topLogprobs: 2", "topLogprobs"),  # `logprobs` not selected: they would not come back
        ("topLogprobs: 0", None),
        ('messages: [{role: USER, content: "hi"}], prompt: " "', "prompt"),
    ],
)
async def test_refusals_name_the_argument(url: str, arguments: str, argument: str | None) -> None:
    prompt = "" if "prompt:" in arguments else 'prompt: "gql: refused", '
    result = await post(url, f"mutation {{ infer({prompt}{arguments}) {{ text }} }}")
    if argument is None:
        assert "errors" not in result, result
        return
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST" and error["extensions"]["argument"] == argument, error
    assert f"`{argument}`" in error["message"], error
    assert not re.search(r"`[a-z]+_[a-z_]+`", error["message"]), error  # GraphQL's names, not the wire's


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ('tools: [{name: "f"}, {name: "f"}]', "`name` of item 2 of `tools` names `f` a second time"),
        ('tools: [{name: "a b"}]', "`name` of item 1 of `tools` is not valid"),
        (
            'jsonSchema: {}, choice: ["a"]',
            "`jsonSchema` cannot be given with `choice`: give at most one of `jsonSchema`, `regex` and `choice`",
        ),
        ("topLogprobs: 2", "`topLogprobs` needs the `logprobs` field selected"),
    ],
)
async def test_refusals_say_what_is_wrong_in_graphql_words(url: str, arguments: str, words: str) -> None:
    result = await post(url, f'mutation {{ infer(prompt: "gql: refused", {arguments}) {{ text }} }}')
    assert words in result["errors"][0]["message"], result


async def test_top_logprobs_streamed_without_logprobs_is_refused(url: str) -> None:
    (message,) = await events(url, 'subscription { inferStream(prompt: "gql: no lp", topLogprobs: 2) { token } }', {})
    (error,) = message["errors"]
    assert (
        error["extensions"] == {"code": "BAD_REQUEST", "argument": "topLogprobs"} and "`logprobs`" in error["message"]
    )


@pytest.mark.parametrize(
    ("asked", "field", "argument", "words"),
    [
        ('regex: "("', "constraint", "regex", "`regex` cannot be compiled"),
        ('choice: ["a"]', "constraint", "choice", "`choice` cannot be compiled"),
        ("jsonSchema: {}", "constraint", "jsonSchema", "`jsonSchema` cannot be compiled"),
        ("", "messages[2].tool_call_id", "messages", "`toolCallId` of item 3 of `messages` cannot be compiled"),
        (
            "",
            "messages[1].tool_calls[0].arguments",
            "messages",
            "`arguments` of item 1 of `toolCalls` of item 2 of `messages` cannot be compiled",
        ),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
async def test_the_workers_refusal_names_the_argument(
    url: str, asked: str, field: str, argument: str, words: str, streamed: bool
) -> None:
    """The worker names the constraint `constraint` whichever argument gave it, and a turn by its 0-based path."""
    prompt = f"gql: worker refuses {asked} {field} {streamed}"
    SCRIPTS[prompt] = Script([], refuse=ErrorMessage(ErrorCode.BAD_REQUEST, "cannot be compiled", field))
    arguments = f"prompt: {json.dumps(prompt)}, {asked}".rstrip(", ")
    if streamed:
        (message,) = await events(url, f"subscription {{ inferStream({arguments}) {{ token }} }}", {})
    else:
        message = await post(url, f"mutation {{ infer({arguments}) {{ text }} }}")
    (error,) = message["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST", "argument": argument} and error["message"] == words, error
