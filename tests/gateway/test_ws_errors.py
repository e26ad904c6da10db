"""A bad `subscribe` over the websocket gets a coded error for its id; the socket and its other operations live on.

Found by a new-user tryout: a syntax error answered a bare `complete`, `"query": 5` a traceback in the log, an
unknown `operationName` closed the whole socket (4400), and two operations without `operationName` ran the
first (over HTTP too), where GraphQL requires an error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from messages import GenerateRequest
from services.gateway.http.json_body import nested_too_deeply
from services.runtime import Settings
from tests.conftest import NatsServer
from tests.support.gateway import gateway
from tests.support.graphql_client import post
from tests.support.scripted_worker import Script, scripted_worker

STREAM = 'subscription S { inferStream(prompt: "slow answer") { token done } }'


def paced(request: GenerateRequest) -> Script:
    assert request.prompt is not None
    return Script(tokens=list(request.prompt), interval_s=0.05)


@pytest.fixture(scope="module")
async def url(own_settings: Settings, own_nats: NatsServer) -> AsyncIterator[str]:
    async with scripted_worker(own_nats.url, paced):
        async with gateway(own_settings) as graphql_url:
            yield graphql_url


BAD = [
    ({"query": 'subscription { inferStream(prompt: "hi" { token } }'}, "Syntax Error"),
    ({"query": 5}, "no GraphQL `query`"),
    ({"query": ""}, "no GraphQL `query`"),
    ({"query": STREAM, "variables": [1]}, "`variables` must be an object"),
    ({"query": STREAM, "operationName": "Z"}, "no operation named 'Z'"),
    ({"query": STREAM + " query Q { health }"}, "name the one to run in `operationName`"),
]


@pytest.mark.parametrize(("payload", "words"), BAD)
async def test_a_bad_subscribe_is_an_error_for_its_id_only(url: str, payload: dict[str, Any], words: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url.replace("http", "ws"), protocols=("graphql-transport-ws",)) as ws:
            await ws.send_json({"type": "connection_init"})
            await ws.receive_json(timeout=5)
            await ws.send_json({"id": "good", "type": "subscribe", "payload": {"query": STREAM}})
            await ws.send_json({"id": "bad", "type": "subscribe", "payload": payload})
            text, error = "", None
            while True:
                message = await ws.receive_json(timeout=10)
                if message["id"] == "bad":
                    assert message["type"] == "error", message
                    error = message["payload"][0]
                    continue
                if message["type"] == "complete":
                    break
                text += message["payload"]["data"]["inferStream"]["token"]
    assert error is not None and error["extensions"]["code"] == "BAD_REQUEST" and words in error["message"], error
    assert text == "slow answer"  # the other operation on the socket went on to the end


async def test_several_operations_need_an_operation_name_over_http(url: str) -> None:
    body = await post(url, "query A { health } query B { health }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "operationName" in body["errors"][0]["message"]
    assert (await post(url, "query A { health } query B { health }", operation_name="B"))["data"] == {"health": "ok"}


@pytest.mark.parametrize("frame", ["[1]", '"subscribe"', "5", "null"])
async def test_a_frame_that_is_not_a_json_object_closes_with_4400_and_no_traceback(
    url: str, frame: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url.replace("http", "ws"), protocols=("graphql-transport-ws",)) as ws:
            await ws.send_json({"type": "connection_init"})
            await ws.receive_json(timeout=5)
            await ws.send_str(frame)
            closed = await ws.receive(timeout=5)
    assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4400, closed
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_frame_nested_too_deeply_closes_with_4400_saying_so(url: str, caplog: pytest.LogCaptureFixture) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url.replace("http", "ws"), protocols=("graphql-transport-ws",)) as ws:
            await ws.send_json({"type": "connection_init"})
            await ws.receive_json(timeout=5)
            await ws.send_str('{"type": "ping", "payload": ' + "[" * 5000 + "]" * 5000 + "}")
            closed = await ws.receive(timeout=5)
    assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4400, closed
    assert closed.extra == nested_too_deeply("the message")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
