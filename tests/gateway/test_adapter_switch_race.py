"""Racing adapter switches through GraphQL (issue 22, item 7): loadAdapter(A) beside loadAdapter(B), and
loadAdapter beside useBaseModel, each answer within seconds (ok, or CONFLICT when the other superseded it),
and within a second the registry and both inference workers name the same adapter.

The fault had two faces, both checked: the mutation whose choice the other replaced waited for its own
adapter, which the workers passed by or never showed (TIMEOUT after 15 s), or it glimpsed it on a worker and
answered ok naming an adapter the registry no longer named (so each answer is compared with the registry's
choice right after it). Two workers on the bundled model and two random LoRA adapters; several rounds, so a
race that goes wrong one time in three is caught."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

import nats
from messages import FollowActive, ModelInfo, decode, encode, subjects
from services.adapters import AdaptersActor
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from services.runtime.testing import make_lora, register_adapter
from tests.conftest import NatsServer, worker_settings
from tests.support.gateway import gateway
from tests.support.graphql_client import post

ROUNDS = 4
ANSWER_WITHIN_S = 5.0  # alone a switch takes about 0.1 s; the fault answered TIMEOUT after 15 s
CONVERGE_WITHIN_S = 1.0
LOAD = 'mutation {{ loadAdapter(adapterName: "{}") {{ ok errorCode activeAdapter }} }}'
BASE = "mutation { useBaseModel { ok errorCode activeAdapter } }"


@pytest.fixture(scope="module")
async def nc(own_nats: NatsServer) -> AsyncIterator[Client]:
    client = await nats.connect(own_nats.url)
    yield client
    await client.drain()


@pytest.fixture(scope="module")
async def url(
    nc: Client, own_settings: Settings, bundled_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The registry with adapters `race-a` and `race-b`, two inference workers, and a gateway."""
    registry = worker_settings(own_settings)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(running(AdaptersActor(registry), registry))
        for seed, name in enumerate(["race-a", "race-b"]):
            folder = await asyncio.to_thread(make_lora, bundled_model, tmp_path_factory.mktemp(name), seed + 20)
            await register_adapter(nc, name, folder)
        for _ in range(2):
            worker = worker_settings(own_settings)
            config = InferenceConfig(max_concurrency=2, warm_up=False)
            await stack.enter_async_context(running(InferenceActor(worker, config), worker))
        yield await stack.enter_async_context(gateway(worker_settings(own_settings)))


async def workers(nc: Client) -> list[ModelInfo]:
    """Every worker's `ModelInfo`: each answers `svc.inference.follow` at once for revision 0."""
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    try:
        await nc.publish(subjects.INFERENCE_FOLLOW, encode(FollowActive(revision=0)), reply=inbox)
        found: dict[str, ModelInfo] = {}
        with contextlib.suppress(TimeoutError):
            while len(found) < 2:
                info = decode((await sub.next_msg(timeout=1)).data, ModelInfo)
                found[info.worker_id] = info
        return list(found.values())
    finally:
        await sub.unsubscribe()


async def registry_active(url: str) -> str | None:
    active = (await post(url, "{ adapters { active } }"))["data"]["adapters"]["active"]
    assert active is None or isinstance(active, str)
    return active


async def switch(url: str, query: str) -> tuple[dict[str, object], float, str | None]:
    """Send one mutation; its result, the seconds it took, and the registry's choice right after it returned."""
    began = time.monotonic()
    body = await asyncio.wait_for(post(url, query), ANSWER_WITHIN_S)
    seconds = time.monotonic() - began
    result = next(iter(body["data"].values()))
    assert isinstance(result, dict), body
    return result, seconds, await registry_active(url)


def asked(query: str) -> str | None:
    """The adapter a mutation asks for (None: the base model)."""
    return query.split('"')[1] if "loadAdapter" in query else None


async def race(url: str, nc: Client, start: str, first: str, second: str) -> None:
    """From `start`'s adapter, send both mutations at once; check their answers, then that everyone agrees."""
    assert next(iter((await post(url, start))["data"].values()))["ok"]
    answers = await asyncio.gather(switch(url, first), switch(url, second))
    for query, (result, seconds, registry_after) in zip((first, second), answers, strict=True):
        assert seconds < ANSWER_WITHIN_S, answers
        # an answer names the adapter active when it returned: ok, the one asked for; CONFLICT, the other one
        assert result["activeAdapter"] == registry_after, answers
        if result["ok"]:
            assert result["activeAdapter"] == asked(query), answers
        else:
            assert result["errorCode"] == "CONFLICT" and result["activeAdapter"] != asked(query), answers
    deadline = time.monotonic() + CONVERGE_WITHIN_S
    while True:
        registry = await registry_active(url)
        reported = [info.active_adapter for info in await workers(nc)]
        if reported == [registry, registry]:
            break
        assert time.monotonic() < deadline, f"registry names {registry}, the workers {reported}"
        await asyncio.sleep(0.05)
    assert registry in [result["activeAdapter"] for result, _, _ in answers if result["ok"]], (answers, registry)


async def test_two_loads_at_once(url: str, nc: Client) -> None:
    for i in range(ROUNDS):
        a, b = ("race-a", "race-b") if i % 2 == 0 else ("race-b", "race-a")
        await race(url, nc, BASE, LOAD.format(a), LOAD.format(b))


async def test_load_beside_use_base_model(url: str, nc: Client) -> None:
    load = LOAD.format("race-b")
    for i in range(ROUNDS):
        await race(url, nc, LOAD.format("race-a"), *((load, BASE) if i % 2 == 0 else (BASE, load)))
