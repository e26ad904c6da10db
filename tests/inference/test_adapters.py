"""Adapters on an inference worker: the active one from KV switches the live model without a restart,
per-request adapters (overlapping ones on two adapters and the base model each answer as alone), a worker
with an empty ADAPTER_DIR fetches files from the Object Store, LRU bound, versions (delete, then re-create)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from nats.aio.client import Client

from messages import (
    Accept,
    DeleteAdapter,
    ErrorCode,
    ErrorMessage,
    GenerateRequest,
    GenerationParams,
    ModelInfo,
    decode,
    describe,
    encode,
    subjects,
)
from services.adapters import AdaptersActor, AdaptersConfig
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from services.runtime.testing import make_lora, register_adapter
from tests.conftest import worker_settings
from tests.support.adapters import set_active
from tests.support.nats_client import collect, new_id, start, text_of

PROMPT = "What is the capital of France?"


@pytest.fixture(scope="module")
def nc(own_nc: Client) -> Client:
    return own_nc


@pytest.fixture(scope="module")
async def adapters(
    nc: Client, own_settings: Settings, bundled_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[str]]:
    """The real registry, with two adapters for the bundled model and one for another base model."""
    registry = worker_settings(own_settings)
    config = AdaptersConfig(base_model_id="HuggingFaceTB/SmolLM2-135M-Instruct")
    async with running(AdaptersActor(registry, config), registry):
        names = ["style-a", "style-b"]
        for seed, name in enumerate(names):
            folder = await asyncio.to_thread(make_lora, bundled_model, tmp_path_factory.mktemp(name), seed)
            await register_adapter(nc, name, folder)
        await register_adapter(nc, "other-base", folder, base_model="someone/else-7B")
        yield names


@pytest.fixture(scope="module")
async def worker(own_settings: Settings, bundled_model: object, adapters: list[str]) -> AsyncIterator[Settings]:
    settings = worker_settings(own_settings)
    async with running(InferenceActor(settings, InferenceConfig(max_concurrency=4, max_loaded_adapters=2)), settings):
        yield settings


async def answer(nc: Client, adapter: str | None = None) -> str:
    request = GenerateRequest(
        request_id=new_id(), prompt=PROMPT, adapter=adapter, params=GenerationParams(max_new_tokens=12)
    )
    reply, sub = await start(nc, request)
    assert isinstance(reply, Accept), reply
    chunks = await collect(sub)
    assert chunks[-1].error is None, chunks[-1].error
    return text_of(chunks)


async def info(nc: Client) -> ModelInfo:
    return decode((await nc.request(subjects.INFERENCE_INFO, b"", timeout=5)).data, ModelInfo)


async def wait_active(nc: Client, name: str | None) -> None:
    for _ in range(100):
        if (await info(nc)).active_adapter == name:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"active adapter never became {name}")


async def test_activate_switches_the_live_model_and_back(nc: Client, worker: Settings, adapters: list[str]) -> None:
    base = await answer(nc)
    assert "Paris" in base
    await set_active(nc, adapters[0])
    await wait_active(nc, adapters[0])
    tuned = await answer(nc)
    assert tuned != base, "the adapter changes the answer"
    await set_active(nc, None)
    await wait_active(nc, None)
    assert await answer(nc) == base, "back to the base model, same greedy answer"


async def test_per_request_adapter(nc: Client, worker: Settings, adapters: list[str]) -> None:
    base = await answer(nc)
    first = await answer(nc, adapters[0])
    second = await answer(nc, adapters[1])
    assert len({base, first, second}) == 3
    assert await answer(nc) == base, "a per-request adapter does not change the default"
    assert await answer(nc, adapters[0]) == first


async def test_lru_bound(nc: Client, worker: Settings, adapters: list[str]) -> None:
    await answer(nc, adapters[0])
    await answer(nc, adapters[1])
    loaded = (await info(nc)).loaded_adapters
    assert sorted(loaded) == sorted(adapters)
    await set_active(nc, None)


@pytest.mark.parametrize(
    ("adapter", "words"),
    [
        ("no-such-adapter", "`adapter` names no saved adapter ('no-such-adapter')"),
        ("other-base", "trained on someone/else-7B"),
    ],
)
async def test_unusable_adapter_is_a_typed_error(
    nc: Client, worker: Settings, adapters: list[str], adapter: str, words: str
) -> None:
    reply, sub = await start(nc, GenerateRequest(request_id=new_id(), prompt=PROMPT, adapter=adapter))
    await sub.unsubscribe()
    assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.ADAPTER_MISSING
    assert words in describe(reply.message, reply.field)


async def test_second_worker_with_empty_adapter_dir(
    nc: Client, worker: Settings, own_settings: Settings, adapters: list[str], tmp_path: Path
) -> None:
    expected = await answer(nc, adapters[1])
    fresh = replace(worker_settings(own_settings), adapter_dir=tmp_path / "empty")
    served_by_fresh: list[str] = []
    async with running(InferenceActor(fresh, InferenceConfig(max_concurrency=4)), fresh):
        for _ in range(30):  # the queue group spreads requests over both workers
            request = GenerateRequest(
                request_id=new_id(), prompt=PROMPT, adapter=adapters[1], params=GenerationParams(max_new_tokens=12)
            )
            reply, sub = await start(nc, request)
            assert isinstance(reply, Accept), reply
            text = text_of(await collect(sub))
            assert text == expected, "every worker gives the same answer with the adapter"
            if reply.worker_id == fresh.worker_id:
                served_by_fresh.append(text)
                break
    assert served_by_fresh, "the fresh worker served the adapter"
    fetched = list((tmp_path / "empty" / adapters[1]).glob("r*/adapter_config.json"))  # one folder per version
    assert fetched, "its files came from the Object Store"


async def answers_at_once(nc: Client, requests: list[GenerateRequest], stagger_s: float = 0.2) -> list[str]:
    """Start the requests `stagger_s` apart (each joins the running batch), then read every answer."""
    subs = []
    for request in requests:
        reply, sub = await start(nc, request)
        assert isinstance(reply, Accept), reply
        subs.append(sub)
        await asyncio.sleep(stagger_s)
    results = []
    for sub in subs:
        chunks = await collect(sub)
        assert chunks[-1].error is None, chunks[-1].error
        results.append(text_of(chunks))
    return results


async def test_overlapping_requests_on_two_adapters_and_the_base_model_answer_as_alone(
    nc: Client, worker: Settings, adapters: list[str]
) -> None:
    """Issue 9's first fault: a base-model story, and 0.2 s later requests on two adapters, on one worker."""

    def story() -> GenerateRequest:
        return GenerateRequest(
            request_id=new_id(),
            prompt="Write a long story about a dragon who learns to bake bread.",
            base_model=True,
            params=GenerationParams(max_new_tokens=40),
        )

    def who(adapter: str) -> GenerateRequest:
        return GenerateRequest(
            request_id=new_id(), prompt="Who are you?", adapter=adapter, params=GenerationParams(max_new_tokens=16)
        )

    lone = [(await answers_at_once(nc, [r]))[0] for r in (story(), who(adapters[0]), who(adapters[1]))]
    assert len(set(lone)) == 3
    together = await answers_at_once(nc, [story(), who(adapters[0]), who(adapters[1])])
    assert together == lone


async def test_a_deleted_adapter_leaves_and_a_new_one_under_its_name_is_served_fresh(
    nc: Client, worker: Settings, bundled_model: Path, tmp_path: Path
) -> None:
    old_files = await asyncio.to_thread(make_lora, bundled_model, tmp_path / "old", 11)
    new_files = await asyncio.to_thread(make_lora, bundled_model, tmp_path / "new", 12)
    await register_adapter(nc, "redo", old_files)
    old = await answer(nc, "redo")
    assert "redo" in (await info(nc)).loaded_adapters

    reply = await nc.request(subjects.ADAPTERS_DELETE, encode(DeleteAdapter(name="redo")), timeout=5)
    assert b'"error"' not in reply.data, reply.data
    for _ in range(100):  # the worker hears the delete on its KV watch
        if "redo" not in (await info(nc)).loaded_adapters:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the deleted adapter stayed loaded")

    await register_adapter(nc, "redo", new_files)
    fresh = await answer(nc, "redo")
    await register_adapter(nc, "redo-twin", new_files)  # the same files under a name never seen before
    assert fresh == await answer(nc, "redo-twin"), "the new files are served, not the old weights"
    assert fresh != old


async def test_deleting_the_active_adapter_never_fails_a_request_that_did_not_name_it(
    nc: Client, worker: Settings, bundled_model: Path, tmp_path: Path
) -> None:
    """Found by a new user: right after deleteAdapter of the active adapter, plain requests got ADAPTER_MISSING
    until the worker saw `active` change. They are answered by the base model, as the registry decides."""
    base = await answer(nc)
    files = await asyncio.to_thread(make_lora, bundled_model, tmp_path / "doomed", 21)
    await register_adapter(nc, "doomed", files)
    await set_active(nc, "doomed")
    await wait_active(nc, "doomed")
    # the moment between the registry deleting the entry and clearing `active`, held open: delete only the entry
    kv = await nc.jetstream().key_value(subjects.ADAPTERS_BUCKET)
    await kv.delete(subjects.adapter_key("doomed"))
    try:
        assert [await answer(nc) for _ in range(2)] == [base, base]
    finally:
        await set_active(nc, None)
