"""Chunks that never reach the gateway (its NATS connection dropped and came back, as when the node it is on
dies and it moves to another) are read back from stream TOKENS: the client gets the whole answer, nothing
missing or repeated. Chunks that TOKENS does not have either end the stream with a typed error.

The gateway's connection goes through tests/support/tcp_proxy.py, which cuts it for a while mid-answer; the worker
(tests/support/scripted_worker.py) keeps publishing to the real nats-server meanwhile."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig

import nats
from messages import ErrorCode, GenerateRequest, GenerationParams, SwitchboardError, TokenChunk, subjects
from services.gateway import GatewayConfig
from services.gateway.clients.inference import InferenceClient
from services.runtime import ensure_stream
from tests.conftest import NatsServer
from tests.support.scripted_worker import Script, scripted_worker
from tests.support.tcp_proxy import TcpProxy


def words(n: int) -> list[str]:
    return [f"{i:04d};" for i in range(n)]


def request() -> GenerateRequest:
    return GenerateRequest(request_id=uuid.uuid4().hex, prompt="p", params=GenerationParams(max_new_tokens=64))


@pytest.fixture(scope="module")
async def tokens_stream(own_nc: Client) -> None:
    """Stream TOKENS as an inference worker creates it."""
    config = StreamConfig(
        name=subjects.TOKENS_STREAM, subjects=[subjects.TOKENS_WILDCARD], storage=StorageType.FILE, max_age=3600
    )
    await ensure_stream(own_nc.jetstream(), config, logging.getLogger("test"))


@pytest.fixture
async def proxy(own_nats: NatsServer) -> AsyncIterator[TcpProxy]:
    async with TcpProxy(own_nats.port) as running:
        yield running


@pytest.fixture
async def gateway_nc(proxy: TcpProxy) -> AsyncIterator[Client]:
    """The gateway's NATS connection, through the proxy, reconnecting as the gateway's does."""
    client = await nats.connect(proxy.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    yield client
    await client.close()


async def stream_with_a_cut(client: InferenceClient, proxy: TcpProxy, cut_s: float) -> list[TokenChunk]:
    chunks: list[TokenChunk] = []
    async for chunk in client.stream(request()):
        if not chunks:
            proxy.cut(cut_s)  # after the first chunk: the next ones are published while the gateway is away
        chunks.append(chunk)
    return chunks


async def test_chunks_sent_while_the_gateway_was_away_are_read_back(
    own_nats: NatsServer, tokens_stream: None, proxy: TcpProxy, gateway_nc: Client
) -> None:
    tokens = [*words(60), ""]
    client = InferenceClient(gateway_nc, GatewayConfig(token_timeout_s=30))
    reconnected = gateway_nc.stats["reconnects"]
    async with scripted_worker(own_nats.url, lambda _: Script(tokens, interval_s=0.03)):
        chunks = await stream_with_a_cut(client, proxy, cut_s=0.5)
    assert gateway_nc.stats["reconnects"] > reconnected, "the connection was not cut"
    assert "".join(c.token for c in chunks) == "".join(tokens), "text lost or repeated"
    assert [c.seq for c in chunks] == sorted({c.seq for c in chunks}) and chunks[-1].done


async def test_chunks_that_tokens_does_not_have_end_the_stream_with_a_typed_error(
    own_nats: NatsServer, tokens_stream: None, own_nc: Client
) -> None:
    """A gap TOKENS cannot fill (seq 3 was never published): the text before it, then UNAVAILABLE."""
    client = InferenceClient(own_nc, GatewayConfig(token_timeout_s=30))
    received: list[TokenChunk] = []
    async with scripted_worker(own_nats.url, lambda _: Script(words(6), before_accept=6, skip_seq=3)):
        with pytest.raises(SwitchboardError) as caught:
            async for chunk in client.stream(request()):
                received.append(chunk)
    assert "".join(c.token for c in received) == "".join(words(3))
    assert caught.value.code is ErrorCode.UNAVAILABLE and "chunks 3 to 3" in caught.value.message
