"""Gateway queries, mutation and subscription over real HTTP and a real websocket."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from services.runtime import Settings
from tests.support.gateway import stack
from tests.support.graphql_client import Subscription, post

STREAM = """subscription($p: String!, $n: Int) {
  inferStream(prompt: $p, maxNewTokens: $n) { token done requestId seq finishReason usage { completionTokens } }
}"""


@pytest.fixture(scope="module")
async def url(base_settings: Settings, bundled_model: object) -> AsyncIterator[str]:
    async with stack(base_settings) as graphql_url:
        yield graphql_url


async def test_health(url: str) -> None:
    assert await post(url, "{ health }") == {"data": {"health": "ok"}}


async def test_model_info(url: str) -> None:
    body = await post(url, "{ modelInfo { modelId device activeAdapter loadIn4bit contextLength state } }")
    assert body["data"]["modelInfo"] == {
        "modelId": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "device": "cpu",
        "activeAdapter": None,
        "loadIn4bit": False,
        "contextLength": 8192,
        "state": "ready",
    }


async def test_model_info_shows_the_engine(url: str) -> None:
    query = "{ modelInfo { engine dtype threads batchSize waiting kvCacheMb kvCacheLimitMb loadedAdapters } }"
    info = (await post(url, query))["data"]["modelInfo"]
    assert info["engine"] == "batched" and info["dtype"] == "float32" and info["threads"] >= 1
    assert info["batchSize"] >= 0 and info["waiting"] >= 0 and info["kvCacheMb"] >= 0
    assert info["kvCacheLimitMb"] == 2048 and info["loadedAdapters"] == []


async def test_infer_mutation(url: str) -> None:
    body = await post(
        url,
        'mutation { infer(prompt: "What is the capital of France?") { text finishReason requestId usage { promptTokens } } }',
    )
    result = body["data"]["infer"]
    assert "Paris" in result["text"]
    assert result["finishReason"] == "stop"
    assert result["usage"]["promptTokens"] > 5


async def test_infer_with_conversation(url: str) -> None:
    body = await post(
        url,
        """mutation($m: [ChatMessageInput!]) {
             infer(prompt: "And the capital of Germany?", messages: $m, maxNewTokens: 30) { text } }""",
        {
            "m": [
                {"role": "USER", "content": "What is the capital of France?"},
                {"role": "ASSISTANT", "content": "The capital of France is Paris."},
            ]
        },
    )
    assert "Berlin" in body["data"]["infer"]["text"]


async def test_subscription_streams_tokens(url: str) -> None:
    async with Subscription(url, STREAM, {"p": "What is the capital of France?", "n": 40}) as sub:
        chunks = [m["data"]["inferStream"] async for m in sub.messages()]
    assert len(chunks) > 3
    assert [c["seq"] for c in chunks] == list(range(len(chunks)))
    assert "Paris" in "".join(c["token"] for c in chunks)
    assert chunks[-1]["done"] and chunks[-1]["finishReason"] == "stop"
    assert not any(c["done"] for c in chunks[:-1])
    assert len({c["requestId"] for c in chunks}) == 1


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ('mutation { infer(prompt: "") { text } }', "`prompt` must not be empty"),
        ('mutation { infer(prompt: "hi", maxNewTokens: 0) { text } }', "`maxNewTokens` must be at least 1"),
        ('mutation { infer(prompt: "hi", maxNewTokens: 99999999) { text } }', "`maxNewTokens` must be at most 8192"),
        ('mutation { infer(prompt: "hi", temperature: -3) { text } }', "`temperature` must be at least 0.0"),
        ('mutation { infer(prompt: "hi", topP: 7) { text } }', "`topP` must be at most 1.0"),
        ('mutation { infer(prompt: "hi", stop: ["a", ""]) { text } }', "item 2 of `stop` must not be empty"),
        ('mutation { infer(prompt: "hi", adapter: "../etc") { text } }', "`adapter` is not valid: use letters"),
        (
            'mutation { infer(prompt: "hi", messages: [{role: USER, content: ""}]) { text } }',
            "`content` of item 1 of `messages` must not be empty",
        ),
    ],
)
async def test_bad_input_is_a_graphql_error(url: str, query: str, words: str) -> None:
    body = await post(url, query)
    assert body["data"] is None
    (error,) = body["errors"]
    assert words in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert f"`{error['extensions']['argument']}`" in error["message"]  # the argument, as data too
    # in the caller's words: no wire names, paths or msgspec jargon
    for jargon in ("Traceback", "$.", "Expected `", "regex"):
        assert jargon not in error["message"], error["message"]
    assert not re.search(r"[a-z]_[a-z]", error["message"]), error["message"]


async def test_unknown_argument_is_a_graphql_error(url: str) -> None:
    body = await post(url, 'mutation { infer(prompt: "hi", colour: "red") { text } }')
    assert "colour" in body["errors"][0]["message"]
    assert await post(url, "{ health }") == {"data": {"health": "ok"}}


async def test_subscription_over_http_is_a_clear_error(url: str) -> None:
    body = await post(url, 'subscription S { inferStream(prompt: "hi") { token } }')
    assert body["data"] is None
    (error,) = body["errors"]
    assert "WebSocket" in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    # queries in the same document still run over HTTP when named
    both = 'query Q { health } subscription S { inferStream(prompt: "hi") { token } }'
    assert (await post(url, both, operation_name="Q"))["data"] == {"health": "ok"}


async def test_subscription_bad_input_is_an_error_message(url: str) -> None:
    async with Subscription(url, STREAM, {"p": "  ", "n": 5}) as sub:
        messages = [m async for m in sub.messages()]
    assert "`prompt` must not be empty" in str(messages)


async def test_cors_preflight_and_origin(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.options(
            url,
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
        ) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        async with session.post(url, json={"query": "{ health }"}, headers={"Origin": "http://127.0.0.1:3000"}) as r:
            assert r.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"
        async with session.post(url, json={"query": "{ health }"}, headers={"Origin": "http://evil.example"}) as r:
            assert "Access-Control-Allow-Origin" not in r.headers


async def test_websocket_origin_rules(url: str) -> None:
    async with Subscription(url, STREAM, {"p": "Hi", "n": 2}, origin="http://localhost:3000") as sub:
        assert [m async for m in sub.messages()][-1]["data"]["inferStream"]["done"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with Subscription(url, STREAM, {"p": "Hi", "n": 2}, origin="http://evil.example"):
            pass
    assert refused.value.status == 403


async def test_only_graphql_transport_ws(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url.replace("http", "ws"), protocols=("graphql-ws",)) as ws:
            assert ws.protocol is None
            msg = await ws.receive(timeout=5)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
