"""Gateways are stateless: two on one NATS serve streams side by side, each complete, none crossed.

A gateway keeps nothing between requests; what it subscribes to is per request (`infer.tokens.<id>`,
`train.progress.<job>`), so any number can run behind a load balancer. A scripted worker (no model) on a
module's own nats-server answers both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from messages import GenerateRequest
from services.runtime import Settings
from tests.conftest import NatsServer, worker_settings
from tests.support.gateway import gateway
from tests.support.graphql_client import Subscription, post
from tests.support.scripted_worker import Script, ScriptedWorker, scripted_worker

STREAM = "subscription($p: String!) { inferStream(prompt: $p) { token seq done requestId } }"


def echo(request: GenerateRequest) -> Script:
    """The prompt back, a character per chunk, a little paced so that the streams overlap."""
    assert request.prompt is not None
    return Script(tokens=list(request.prompt), interval_s=0.002)


@pytest.fixture(scope="module")
async def worker(own_nats: NatsServer) -> AsyncIterator[ScriptedWorker]:
    async with scripted_worker(own_nats.url, echo) as scripted:
        yield scripted


@pytest.fixture(scope="module")
async def urls(own_settings: Settings, worker: ScriptedWorker) -> AsyncIterator[tuple[str, str]]:
    async with gateway(worker_settings(own_settings)) as first, gateway(worker_settings(own_settings)) as second:
        yield first, second


async def answer(url: str, prompt: str) -> tuple[str, set[str]]:
    async with Subscription(url, STREAM, {"p": prompt}) as sub:
        chunks = [m["data"]["inferStream"] async for m in sub.messages(timeout=30)]
    assert chunks[-1]["done"] and chunks[-1]["seq"] == len(prompt) - 1
    return "".join(c["token"] for c in chunks), {c["requestId"] for c in chunks}


async def test_two_gateways_serve_streams_at_once(urls: tuple[str, str], worker: ScriptedWorker) -> None:
    prompts = [f"stream {i} through gateway {i % 2}: " + "abcdefghij" * 8 for i in range(16)]
    before = len(worker.requests)
    results = await asyncio.gather(*(answer(urls[i % 2], p) for i, p in enumerate(prompts)))
    assert [text for text, _ in results] == prompts
    ids = [request_ids for _, request_ids in results]
    assert all(len(one) == 1 for one in ids) and len(set().union(*ids)) == len(prompts)
    assert len(worker.requests) - before == len(prompts)


async def test_either_gateway_answers_queries_and_mutations(urls: tuple[str, str]) -> None:
    for url in urls:
        assert (await post(url, "{ health }"))["data"] == {"health": "ok"}
        body = await post(url, 'mutation { infer(prompt: "same answer") { text finishReason } }')
        assert body["data"]["infer"] == {"text": "same answer", "finishReason": "stop"}
