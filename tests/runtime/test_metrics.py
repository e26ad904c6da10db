"""`GET /metrics`: the gateway gathers every instance's Prometheus figures over NATS (`metrics.scrape`) and
serves them in one exposition, labelled by service and instance, behind the same keys as the API.

A real inference worker, training service and adapter registry run on the module's own nats-server; the
figures are read back with prometheus_client's own parser and checked as deltas against what the test did.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
import websockets
from nats.aio.client import Client
from prometheus_client.parser import text_string_to_metric_families

from services.gateway.http.keys import ApiKeys
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from services.runtime.metrics import gather
from tests.conftest import worker_settings
from tests.support.gateway import gateway
from tests.support.graphql_client import Subscription
from tests.support.training import training

KEY = "metrics-test-key-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
async def urls(own_nc: Client, own_settings: Settings, bundled_model: Path) -> AsyncIterator[dict[str, str]]:
    worker = worker_settings(own_settings)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(training(own_nc, own_settings))
        await stack.enter_async_context(running(InferenceActor(worker, InferenceConfig(max_concurrency=2)), worker))
        keyed = await stack.enter_async_context(
            gateway(worker_settings(own_settings), keys=ApiKeys.of(admin=[], user=[KEY]))
        )
        open_ = await stack.enter_async_context(
            gateway(worker_settings(own_settings), keys=ApiKeys.of(admin=[], user=[KEY]), metrics_open=True)
        )
        yield {"keyed": keyed.replace("/graphql", ""), "open": open_.replace("/graphql", "")}


async def scrape(base: str, key: str | None = KEY) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics", headers=headers) as response:
        return response.status, await response.text()


async def samples(base: str) -> Samples:
    status, text = await scrape(base)
    assert status == 200, text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(found: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(value for (n, have), value in found.items() if n == name and wanted <= have)


def graphql_requests(before: Samples, after: Samples) -> Callable[..., float]:
    """How many more GraphQL requests `after` counts than `before`, under the labels given (all when none)."""

    def delta(**labels: str) -> float:
        name = "switchboard_gateway_requests_total"
        return total(after, name, api="graphql", **labels) - total(before, name, api="graphql", **labels)

    return delta


async def graphql(base: str, query: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/graphql", json={"query": query}, headers=headers) as response:
            body: dict[str, object] = await response.json()
            return body


async def test_figures_follow_what_was_served(urls: dict[str, str]) -> None:
    base = urls["keyed"]
    before = await samples(base)
    answer = await graphql(
        base, '{ __typename } mutation { infer(prompt: "Say hi", maxNewTokens: 5) { usage { completionTokens } } }'
    )
    assert "errors" in answer  # two operations, no operationName: refused, counted as bad_request
    whole = await graphql(base, 'mutation { infer(prompt: "Say hi", maxNewTokens: 5) { usage { completionTokens } } }')
    # both an adapter and the base model: only the worker checks that (the gateway checks the arguments)
    refused = await graphql(base, 'mutation { infer(prompt: "Say hi", adapter: "nope", baseModel: true) { text } }')
    client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0)
    chat = await client.chat.completions.create(
        model=(await client.models.list()).data[0].id, messages=[{"role": "user", "content": "Hi"}], max_tokens=4
    )
    after = await samples(base)

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert whole.get("data"), whole
    tokens = whole["data"]["infer"]["usage"]["completionTokens"]  # type: ignore[index]
    assert chat.usage is not None
    assert (
        delta("switchboard_inference_generated_tokens_total", service="inference")
        == tokens + chat.usage.completion_tokens
    )
    assert delta("switchboard_inference_requests_total", service="inference") == 2
    assert delta("switchboard_inference_refusals_total", code="bad_request") == 1
    assert delta("switchboard_inference_time_to_first_token_seconds_count") == 2
    assert delta("switchboard_gateway_time_to_first_token_seconds_count", service="gateway") == 2
    assert delta("switchboard_gateway_requests_total", api="graphql", operation="infer", outcome="ok") == 1
    assert delta("switchboard_gateway_requests_total", api="graphql", operation="infer", outcome="bad_request") == 1
    assert delta("switchboard_gateway_requests_total", api="openai", operation="chat/completions", outcome="ok") == 1
    assert delta("switchboard_gateway_requests_total", api="openai", operation="models", outcome="ok") == 1
    assert "errors" in refused


async def test_every_instance_is_labelled(urls: dict[str, str], own_nc: Client) -> None:
    found = await samples(urls["keyed"])
    services = {dict(labels)["service"] for (_, labels) in found}
    assert {"gateway", "inference", "training", "adapters"} <= services
    gateways = {dict(labels)["instance"] for (name, labels) in found if dict(labels)["service"] == "gateway"}
    assert len(gateways) == 2  # both gateways answer the scrape; either one serves the whole picture
    assert total(found, "switchboard_inference_max_concurrency") == 2
    assert ("switchboard_training_jobs", frozenset({("state", "queued"), ("service", "training")})) in {
        (n, frozenset((k, v) for k, v in labels if k != "instance")) for (n, labels) in found
    }
    # the same gathering a NATS client can do itself (what `nats req --replies=0 metrics.scrape ''` shows)
    assert b"switchboard_inference_requests_running" in await gather(own_nc, 0.5)


async def test_a_stream_counts_when_it_ends(urls: dict[str, str]) -> None:
    base = urls["keyed"]
    before = await samples(base)
    ws_url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {KEY}"}}))
        assert '"connection_ack"' in await ws.recv()
        query = 'subscription { inferStream(prompt: "Hi", maxNewTokens: 3) { token done } }'
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        while '"complete"' not in (frame := await ws.recv()):
            assert '"errors"' not in frame, frame
    await asyncio.sleep(0.1)
    after = await samples(base)
    counted = ("switchboard_gateway_requests_total", "graphql", "inferStream", "ok")
    name, api, operation, outcome = counted
    assert (
        total(after, name, api=api, operation=operation, outcome=outcome)
        - total(before, name, api=api, operation=operation, outcome=outcome)
        == 1
    )


async def test_metrics_take_the_keys_unless_left_open(urls: dict[str, str]) -> None:
    status, body = await scrape(urls["keyed"], key=None)
    assert status == 401 and "UNAUTHENTICATED" in body
    status, _ = await scrape(urls["keyed"], key="wrong-key-0123456789abc")
    assert status == 401
    status, body = await scrape(urls["open"], key=None)  # GATEWAY_METRICS_OPEN=true
    assert status == 200 and "switchboard_gateway_requests_total" in body


async def test_refusals_in_results_and_unknown_fields_are_counted_as_such(urls: dict[str, str]) -> None:
    base = urls["keyed"]
    before = await samples(base)
    refused = await graphql(base, 'mutation { startFineTune(adapterName: "x") { ok errorCode } }')
    assert refused["data"] == {"startFineTune": {"ok": False, "errorCode": "FORBIDDEN"}}  # a user key
    await graphql(base, "{ made_up_field_12345 }")
    after = await samples(base)
    delta = graphql_requests(before, after)
    assert delta(operation="startFineTune", outcome="forbidden") == 1
    assert delta(operation="startFineTune", outcome="ok") == 0
    assert delta(operation="unknown", outcome="bad_request") == 1
    assert not [labels for (_, labels) in after if ("operation", "made_up_field_12345") in labels]


async def test_every_request_is_counted_once_under_its_outcome_on_every_transport(urls: dict[str, str]) -> None:
    base = urls["keyed"]
    url = f"{base}/graphql"
    before = await samples(base)
    # an HTTP `infer` whose client gives up mid-answer
    long = 'mutation { infer(prompt: "Write a long story about the sea.", maxNewTokens: 400) { text } }'
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1.5)) as http:
        with pytest.raises(asyncio.TimeoutError):
            await http.post(url, json={"query": long}, headers={"Authorization": f"Bearer {KEY}"})
    # subscriptions refused for their arguments, an id in use, a bad fromSeq, a document that does not parse
    stream = (
        'subscription($n: Int!, $id: String) { inferStream(prompt: "Hi", maxNewTokens: $n, requestId: $id) { done } }'
    )
    request_id = uuid.uuid4().hex
    finished = [m async for m in _subscription(url, stream, {"n": 2, "id": request_id})]
    assert "errors" not in finished[-1], finished
    for query, variables, code in [
        (stream, {"n": 0}, "BAD_REQUEST"),
        (stream, {"n": 2, "id": request_id}, "CONFLICT"),
        ('subscription { inferResume(requestId: "abc", fromSeq: -1) { done } }', {}, "BAD_REQUEST"),
        ("subscription { inferStream(", {}, "BAD_REQUEST"),
    ]:
        messages = [m async for m in _subscription(url, query, variables)]
        assert messages[0]["errors"][0]["extensions"]["code"] == code, messages
    # a request without a key, refused at the door before GraphQL runs; one with no query
    async with aiohttp.ClientSession() as http, http.post(url, json={"query": "{ adapters { active } }"}) as response:
        assert response.status == 401
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as http:
        async with http.post(url, json={"query": None}) as response:
            assert response.status == 400
    await asyncio.sleep(0.5)  # the abandoned `infer` is counted as its handler unwinds
    delta = graphql_requests(before, await samples(base))
    assert delta(operation="infer", outcome="cancelled") == 1
    assert delta(operation="inferStream", outcome="ok") == 1
    assert delta(operation="inferStream", outcome="bad_request") == 1
    assert delta(operation="inferStream", outcome="conflict") == 1
    assert delta(operation="inferResume", outcome="bad_request") == 1
    assert delta(operation="unknown", outcome="bad_request") == 2
    assert delta(operation="unknown", outcome="unauthenticated") == 1
    assert delta() == 8  # each once: nothing counted twice, nothing left out


async def _subscription(url: str, query: str, variables: dict[str, object]) -> AsyncIterator[dict[str, Any]]:
    async with Subscription(url, query, variables, key=KEY) as sub:
        async for message in sub.messages(30):
            yield message
