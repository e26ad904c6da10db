"""With no inference worker running, the gateway answers with a clear error within a few seconds."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from services.runtime import Settings
from tests.conftest import NatsServer
from tests.support.gateway import gateway
from tests.support.graphql_client import Subscription, post


@pytest.fixture(scope="module")
def lonely_nats() -> Iterator[NatsServer]:
    server = NatsServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
async def url(base_settings: Settings, lonely_nats: NatsServer) -> AsyncIterator[str]:
    async with gateway(replace(base_settings, nats_url=lonely_nats.url)) as graphql_url:
        yield graphql_url


async def test_health_still_answers(url: str) -> None:
    assert await post(url, "{ health }") == {"data": {"health": "ok"}}


@pytest.mark.parametrize("query", ['mutation { infer(prompt: "hi") { text } }', "{ modelInfo { modelId } }"])
async def test_clear_error_quickly(url: str, query: str) -> None:
    started = time.monotonic()
    body = await post(url, query)
    assert time.monotonic() - started < 5
    (error,) = body["errors"]
    assert "no inference worker is running" in error["message"]
    assert error["extensions"]["code"] == "UNAVAILABLE"


async def test_subscription_gets_the_error(url: str) -> None:
    async with Subscription(url, 'subscription { inferStream(prompt: "hi") { token done } }') as sub:
        messages = [m async for m in sub.messages(timeout=5)]
    assert "no inference worker is running" in str(messages)


@pytest.mark.parametrize(
    "query", ["{ fineTuneStatus { running } }", "{ fineTuneJobs { jobId } }", "{ adapters { active } }"]
)
async def test_training_and_registry_queries_say_what_is_missing(url: str, query: str) -> None:
    started = time.monotonic()
    (error,) = (await post(url, query))["errors"]
    assert time.monotonic() - started < 5
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert "is not running" in error["message"]


async def test_start_fine_tune_without_training_service(url: str) -> None:
    body = await post(url, 'mutation { startFineTune(adapterName: "x") { ok error errorCode jobId } }')
    result = body["data"]["startFineTune"]
    assert result["ok"] is False and result["errorCode"] == "UNAVAILABLE" and result["jobId"] is None
    assert "training service is not running" in result["error"]
