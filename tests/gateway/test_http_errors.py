"""Requests that never reach GraphQL (bad JSON, wrong content type, too large) and documents GraphQL refuses
(syntax, unknown fields, wrong types) get GraphQL errors in JSON with a `code`, and the gateway carries on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from services.gateway.http.json_body import MAX_NESTING, nested_too_deeply
from services.runtime import Settings
from tests.conftest import worker_settings
from tests.support.gateway import gateway
from tests.support.graphql_client import post


@pytest.fixture(scope="module")
async def url(base_settings: Settings) -> AsyncIterator[str]:
    async with gateway(worker_settings(base_settings)) as graphql_url:
        yield graphql_url


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b'{"query": "{ health }"', "application/json", 400, "not valid JSON"),
        (b"{}", "application/json", 400, "no GraphQL `query`"),
        (b'[{"query": "{ health }"}]', "application/json", 400, "one operation per request"),
        (b"{ health }", "text/plain", 400, "Content-Type: application/json"),
        (b'{"query": "' + b"x" * (2 * 1024**2) + b'"}', "application/json", 413, "larger than 1048576 bytes"),
    ],
)
async def test_refused_requests_get_json_errors(
    url: str, body: bytes, content_type: str, status: int, words: str
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers={"Content-Type": content_type}) as response:
            assert response.status == status
            assert response.content_type == "application/json"
            answer = await response.json()
    (error,) = answer["errors"]
    assert words in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert await post(url, "{ health }") == {"data": {"health": "ok"}}


async def test_json_nested_too_deeply_is_refused_as_such(url: str) -> None:
    """Valid JSON deeper than the decoder goes is a 400 that says so (it was "not valid JSON" on /v1 and a 500 on
    /graphql); up to `MAX_NESTING` levels it decodes."""

    def nested(depth: int) -> bytes:
        return b'{"query": "{ health }", "variables": {"x": ' + b"[" * depth + b"]" * depth + b"}}"

    v1 = url.replace("/graphql", "/v1/chat/completions")
    async with aiohttp.ClientSession() as session:
        for target in (url, v1):
            async with session.post(
                target, data=nested(5000), headers={"Content-Type": "application/json"}
            ) as response:
                assert response.status == 400 and response.content_type == "application/json"
                answer = await response.json()
            error = answer["errors"][0] if target == url else answer["error"]
            assert error["message"] == nested_too_deeply(), (target, answer)
        async with session.post(
            url, data=nested(MAX_NESTING), headers={"Content-Type": "application/json"}
        ) as response:
            assert await response.json() == {"data": {"health": "ok"}}
        async with session.post(v1, data=nested(MAX_NESTING), headers={"Content-Type": "application/json"}) as response:
            assert (await response.json())["error"]["param"] == "query"  # decoded: its fields are read


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("{ health ", "Syntax Error"),
        ("{ nope }", "Cannot query field 'nope'"),
        ("mutation { infer(prompt: 5) { text } }", "String cannot represent a non string value"),
        ("mutation { infer { text } }", "prompt:)' of type 'String!' is required"),
    ],
)
async def test_documents_graphql_refuses_have_a_code(url: str, query: str, words: str) -> None:
    body = await post(url, query)
    assert words in body["errors"][0]["message"]
    assert all(error["extensions"]["code"] == "BAD_REQUEST" for error in body["errors"])


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('mutation($n: Int) { infer(prompt: "hi", maxNewTokens: $n) { text } }', {"n": "ten"}),
        ("mutation($p: String!) { infer(prompt: $p) { text } }", {}),
        ("mutation($p: String!) { infer(prompt: $p) { text } }", {"p": None}),
        (
            'mutation($m: [ChatMessageInput!]) { infer(prompt: "hi", messages: $m) { text } }',
            {"m": [{"role": "WIZARD", "content": "x"}]},
        ),
    ],
)
async def test_a_variable_graphql_cannot_coerce_is_bad_request(url: str, query: str, variables: dict[str, Any]) -> None:
    body = await post(url, query, variables)
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
