"""Subscription events answered from a plan give exactly what graphql-core's full execution gives.

Each document is run both ways on the gateway's real schema, over events of every shape the resolver
yields (and a few it never should): the planned executor and strawberry's own must agree on `data` and
`errors`, and the plan must really be used where the selection allows it.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from services.gateway.graphql.event_plan import PlannedEventExecutor, plan_event
from services.gateway.graphql.schema import schema
from services.gateway.graphql.types import Source, TokenChunk, TokenLogprob, ToolCall, TopLogprob, Usage

ROOT = 'inferStream(prompt: "x")'
PLAIN = [
    f"subscription {{ {ROOT} {{ token seq done }} }}",
    f"subscription {{ {ROOT} {{ t: token token seq s2: seq done requestId finishReason searchNotice }} }}",
    f"subscription {{ s: {ROOT} {{ token }} }}",
    f"fragment F on TokenChunk {{ token usage {{ completionTokens }} }} subscription {{ {ROOT} {{ ...F done }} }}",
    f"subscription {{ {ROOT} {{ __typename ... on TokenChunk {{ seq }} usage {{ __typename promptTokens }} }} }}",
    f"subscription {{ {ROOT} {{ sources {{ title url }} sources {{ url }} searchNotice }} }}",
    f"subscription Named {{ {ROOT} {{ usage {{ p: promptTokens completionTokens }} finishReason }} }}",
    # issue 24: a choice's index, logprobs and tool calls (with n, a schema and tools among the arguments)
    'subscription { inferStream(prompt: "x", n: 2, jsonSchema: {type: "object"}, tools: [{name: "f"}]) '
    "{ index token logprobs { token logprob bytes top { token logprob bytes } } toolCalls { id name arguments } } }",
]
SWITCHED = f"subscription($on: Boolean!) {{ {ROOT} {{ token @include(if: $on) seq @skip(if: $on) done }} }}"

EVENTS = [
    TokenChunk(token="Hel", done=False, request_id="r1", seq=0),
    TokenChunk(token="lo wörld ✓", done=False, request_id="r1", seq=7),
    TokenChunk(
        token="",
        done=True,
        request_id="r1",
        seq=8,
        finish_reason="stop",
        usage=Usage(prompt_tokens=12, completion_tokens=9),
    ),
    TokenChunk(
        token="a",
        done=False,
        request_id="r2",
        seq=0,
        sources=[Source(title="T", url="https://example.org/a"), Source(title="U", url="https://example.org/b")],
        search_notice=None,
    ),
    TokenChunk(token="b", done=False, request_id="r3", seq=0, sources=[], search_notice="search is offline"),
    TokenChunk(
        token="ab",
        done=False,
        request_id="r4",
        seq=3,
        index=1,
        logprobs=[
            TokenLogprob(token="a", logprob=-0.5, top=[TopLogprob(token="a", logprob=-0.5, bytes=[97])], bytes=[97]),
            TokenLogprob(token="\ufffd", logprob=-1.5, top=[], bytes=[0xF0, 0x9F]),
        ],
        tool_calls=[ToolCall(id="call_1", name="f", arguments="{}")],
    ),
]
BROKEN = [
    TokenChunk(token=None, done=False, request_id="r", seq=0),  # type: ignore[arg-type]  # a null in String!
    TokenChunk(token="x", done=False, request_id="r", seq="not a number"),  # type: ignore[arg-type]
    TokenChunk(token="x", done=False, request_id="r", seq=0, usage="not an object"),  # type: ignore[arg-type]
    TokenChunk(token="x", done=False, request_id="r", seq=0, sources=[None]),  # type: ignore[list-item]
]


def run(executor_class: type, query: str, variables: dict[str, Any] | None, event: object) -> tuple[Any, Any]:
    executor = executor_class.build(schema._schema, parse(query), raw_variable_values=variables)
    assert not isinstance(executor, list), executor
    result = executor.build_per_event_executor(event).execute_operation(False)
    return result.data, [error.formatted for error in result.errors or []]


def planned(query: str, variables: dict[str, Any] | None = None) -> bool:
    executor = PlannedEventExecutor.build(schema._schema, parse(query), raw_variable_values=variables)
    return plan_event(executor) is not None


@pytest.mark.parametrize("query", PLAIN)
def test_plain_selections_are_planned_and_answer_as_graphql_core(query: str) -> None:
    assert planned(query)
    for event in EVENTS + BROKEN:
        expected = run(StrawberryGraphQLCoreExecutionContext, query, None, event)
        assert run(PlannedEventExecutor, query, None, event) == expected


@pytest.mark.parametrize("on", [True, False])
def test_skip_and_include_follow_the_variables(on: bool) -> None:
    assert planned(SWITCHED, {"on": on})
    for event in EVENTS:
        data, errors = run(PlannedEventExecutor, SWITCHED, {"on": on}, event)
        assert (data, errors) == run(StrawberryGraphQLCoreExecutionContext, SWITCHED, {"on": on}, event)
        assert ("token" in data["inferStream"], "seq" in data["inferStream"]) == (on, not on)


@pytest.mark.parametrize("event, query", zip(BROKEN, [PLAIN[0], PLAIN[0], PLAIN[3], PLAIN[5]], strict=True))
def test_broken_events_fall_back_to_graphql_cores_errors(event: TokenChunk, query: str) -> None:
    data, errors = run(PlannedEventExecutor, query, None, event)
    assert errors, data
    assert (data, errors) == run(StrawberryGraphQLCoreExecutionContext, query, None, event)


def test_the_key_order_is_the_selections() -> None:
    data, _ = run(PlannedEventExecutor, f"subscription {{ {ROOT} {{ seq done token }} }}", None, EVENTS[1])
    assert list(data["inferStream"]) == ["seq", "done", "token"]


def test_queries_are_not_planned() -> None:
    executor = PlannedEventExecutor.build(schema._schema, parse("{ health }"))
    assert plan_event(executor) is None
