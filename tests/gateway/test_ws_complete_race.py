"""A client that sends `complete`, or closes its socket, just as an answer ends logs no error in the gateway,
gets nothing the protocol does not call for, and is served on (issue 22, item 6).

Such a `complete` used to reach strawberry while `inferStream` was still cleaning up after its last chunk, and
strawberry logged "Exception in worker task" with a KeyError traceback (the operation's id de-registered a
second time); a socket closing at that moment did the same. Each round sends its `complete` (or closes) a swept
0 to 3 ms after the answer's one token, about when its last chunk follows: here about one round in five hit the
moment before the fix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from services.runtime import Settings
from tests.support.gateway import stack

STREAM = 'subscription { inferStream(prompt: "Say hi.", maxNewTokens: 1) { token done } }'
ROUNDS = 30
STEP_S = 0.0001  # round i waits (i % 30) steps after the token: 0 to 2.9 ms


@pytest.fixture(scope="module")
async def url(base_settings: Settings, bundled_model: object) -> AsyncIterator[str]:
    async with stack(base_settings) as graphql_url:
        yield graphql_url


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Each ERROR (or worse) record of strawberry or Switchboard, with its traceback."""
    formatter = logging.Formatter("%(name)s: %(message)s")
    return [
        formatter.format(record)
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.name.split(".")[0] in ("strawberry", "switchboard")
    ]


def wait_steps(round_: int) -> None:
    """Busy-wait round `round_`'s share of the sweep: asyncio.sleep cannot time tenths of a millisecond."""
    until = time.perf_counter() + (round_ % 30) * STEP_S
    while time.perf_counter() < until:
        pass


async def connect(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(url.replace("http", "ws"), protocols=("graphql-transport-ws",))
    await ws.send_json({"type": "connection_init"})
    assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
    return ws


async def first_token(ws: aiohttp.ClientWebSocketResponse, operation_id: str) -> None:
    await ws.send_json({"id": operation_id, "type": "subscribe", "payload": {"query": STREAM}})
    message = await ws.receive_json(timeout=60)
    assert message["id"] == operation_id and message["type"] == "next", message


async def until_pong(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """Send a ping; the messages that came before its pong."""
    await ws.send_json({"type": "ping"})
    seen = []
    while (message := await ws.receive_json(timeout=10))["type"] != "pong":
        seen.append(message)
    return seen


async def answer(ws: aiohttp.ClientWebSocketResponse, operation_id: str) -> list[dict[str, Any]]:
    """Run one subscription to its end; its messages, the last `complete` (or `error`) included."""
    await ws.send_json({"id": operation_id, "type": "subscribe", "payload": {"query": STREAM}})
    messages = []
    while True:
        messages.append(await ws.receive_json(timeout=60))
        if messages[-1]["type"] != "next":
            return messages


async def test_complete_as_an_answer_ends_logs_nothing(url: str, caplog: pytest.LogCaptureFixture) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, url)
        for round_ in range(ROUNDS):
            operation_id = f"race-{round_}"
            await first_token(ws, operation_id)
            wait_steps(round_)
            await ws.send_json({"id": operation_id, "type": "complete"})
            if round_ % 3 == 0:  # a client that completes twice
                await ws.send_json({"id": operation_id, "type": "complete"})
            # the last chunk and the server's `complete` may have crossed the client's: nothing else
            for message in await until_pong(ws):
                assert message["id"] == operation_id and message["type"] in ("next", "complete"), message
        last = await answer(ws, "after")  # the connection serves on
        assert [m["type"] for m in last][-1] == "complete" and last[-2]["payload"]["data"]["inferStream"]["done"]
        await ws.close()
    assert errors(caplog) == []


async def test_a_socket_closing_as_an_answer_ends_logs_nothing(url: str, caplog: pytest.LogCaptureFixture) -> None:
    async with aiohttp.ClientSession() as session:
        for round_ in range(ROUNDS):
            ws = await connect(session, url)
            await first_token(ws, "1")
            wait_steps(round_)
            if round_ % 2:  # complete, then leave at once
                await ws.send_json({"id": "1", "type": "complete"})
            await ws.close()
        ws = await connect(session, url)  # the gateway serves on (and meanwhile the closed ones finish)
        assert (await answer(ws, "after"))[-1]["type"] == "complete"
        await ws.close()
    assert errors(caplog) == []
