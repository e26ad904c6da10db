"""Chunks that wait for a reader go out as one: tokens joined in order, the `seq` of the last, nothing lost.

A scripted worker (tests/support/scripted_worker.py) on a module's own nats-server makes the gateway fall behind on
purpose: chunks published before its `Accept` are all waiting when the gateway starts reading; a paced
stream outruns a reader that pauses; megabytes of tokens outrun a websocket client that does not read.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import nats
from messages import ErrorCode, GenerateRequest, GenerationParams, SwitchboardError, TokenChunk
from services.gateway import GatewayConfig
from services.gateway.clients.inference import InferenceClient
from services.runtime import Settings
from tests.conftest import NatsServer
from tests.support.gateway import gateway
from tests.support.graphql_client import Subscription, post
from tests.support.scripted_worker import Script, ScriptedWorker, failing, scripted_worker

STREAM = """subscription($p: String!) { inferStream(prompt: $p) {
  token seq done finishReason usage { completionTokens } } }"""
SCRIPTS: dict[str, Script] = {}  # prompt -> what the worker sends back


def by_prompt(request: GenerateRequest) -> Script:
    assert request.prompt is not None
    return SCRIPTS[request.prompt]


def words(n: int, size: int = 0) -> list[str]:
    return [f"{i:05d}".ljust(size, ".") + ";" for i in range(n)]


@pytest.fixture(scope="module")
async def worker(own_nats: NatsServer) -> AsyncIterator[ScriptedWorker]:
    async with scripted_worker(own_nats.url, by_prompt) as scripted:
        yield scripted


@pytest.fixture(scope="module")
async def url(own_settings: Settings, worker: ScriptedWorker) -> AsyncIterator[str]:
    async with gateway(own_settings) as graphql_url:
        yield graphql_url


async def frames(url: str, prompt: str) -> list[dict[str, Any]]:
    async with Subscription(url, STREAM, {"p": prompt}) as sub:
        return [message async for message in sub.messages(timeout=30)]


def check_joined(received: list[dict[str, Any]], tokens: list[str]) -> None:
    """The chunks as a client sees them: text complete and in order, seq increasing, the last one done."""
    chunks = [m["data"]["inferStream"] for m in received]
    assert "".join(c["token"] for c in chunks) == "".join(tokens)
    seqs = [c["seq"] for c in chunks]
    assert seqs == sorted(set(seqs)) and seqs[-1] == len(tokens) - 1
    assert [c["done"] for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1]["finishReason"] == "stop"
    assert chunks[-1]["usage"] == {"completionTokens": len(tokens)}


async def test_chunks_waiting_for_the_gateway_go_out_as_one(url: str) -> None:
    tokens = words(300)
    SCRIPTS["burst"] = Script(tokens, before_accept=300)  # all 300 wait before the gateway's first read
    received = await frames(url, "burst")
    check_joined(received, tokens)
    assert len(received) == 1


async def test_a_whole_answer_over_http_after_a_burst(url: str) -> None:
    tokens = words(120)
    SCRIPTS["burst-http"] = Script(tokens, before_accept=80, interval_s=0.001)
    body = await post(url, 'mutation { infer(prompt: "burst-http") { text finishReason } }')
    assert body["data"]["infer"] == {"text": "".join(tokens), "finishReason": "stop"}


async def test_a_reader_that_pauses_catches_up_in_one_chunk(own_nats: NatsServer, worker: ScriptedWorker) -> None:
    tokens = words(100)
    SCRIPTS["paced"] = Script(tokens, interval_s=0.002)
    nc = await nats.connect(own_nats.url)
    try:
        client = InferenceClient(nc, GatewayConfig())
        request = GenerateRequest(request_id=uuid.uuid4().hex, prompt="paced", params=GenerationParams())
        received: list[TokenChunk] = []
        async for chunk in client.stream(request):
            received.append(chunk)
            if len(received) == 1:
                await asyncio.sleep(0.12)  # about 60 more chunks are published meanwhile
    finally:
        await nc.drain()
    assert "".join(c.token for c in received) == "".join(tokens)
    assert [c.seq for c in received] == sorted({c.seq for c in received})
    assert received[-1].seq == 99 and received[-1].done
    second = received[1]
    assert second.token.count(";") == second.seq >= 20, "the chunks that came during the pause are one"


async def test_text_before_an_error_reaches_the_client_then_the_error(url: str) -> None:
    SCRIPTS["fails"] = Script(**{**failing(["a;", "b;", "c;"]).__dict__, "before_accept": 4})
    received = await frames(url, "fails")
    assert received[0]["data"]["inferStream"]["token"] == "a;b;c;"
    assert received[-1]["errors"][0]["extensions"]["code"] == ErrorCode.INTERNAL.value.upper()
    assert "failed on purpose" in received[-1]["errors"][0]["message"]


async def test_a_gap_in_seq_is_an_error_after_the_text_before_it(url: str) -> None:
    SCRIPTS["gap"] = Script(words(6), before_accept=6, skip_seq=3)
    received = await frames(url, "gap")
    assert received[0]["data"]["inferStream"]["token"] == "".join(words(3))
    error = received[-1]["errors"][0]  # seq 3 is nowhere, not in stream TOKENS either
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert "chunks 3 to 3 of the answer were lost" in error["message"]


async def test_a_websocket_client_that_does_not_read_gets_joined_chunks_later(url: str) -> None:
    tokens = words(6000, size=4000)  # 24 MB: more than the socket buffers between gateway and client hold
    SCRIPTS["big"] = Script(tokens)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url.replace("http", "ws"), protocols=("graphql-transport-ws",)) as ws:
            await ws.send_json({"type": "connection_init"})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            payload = {"query": STREAM, "variables": {"p": "big"}}
            await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
            await asyncio.sleep(3)  # the worker publishes everything; the gateway blocks on the full socket
            received = []
            while True:
                message = json.loads((await ws.receive(timeout=30)).data)
                if message["type"] != "next":
                    assert message["type"] == "complete", message
                    break
                received.append(message["payload"])
    check_joined(received, tokens)
    assert len(received) < len(tokens) / 2, f"{len(received)} frames for {len(tokens)} chunks"


async def test_a_stream_that_goes_silent_times_out(own_nats: NatsServer, worker: ScriptedWorker) -> None:
    SCRIPTS["silent"] = Script(words(3), interval_s=5)
    nc = await nats.connect(own_nats.url)
    try:
        client = InferenceClient(nc, GatewayConfig(token_timeout_s=0.5))
        request = GenerateRequest(request_id=uuid.uuid4().hex, prompt="silent", params=GenerationParams())
        with pytest.raises(SwitchboardError) as caught:
            async for _ in client.stream(request):
                pass
    finally:
        await nc.drain()
    assert caught.value.code is ErrorCode.TIMEOUT
