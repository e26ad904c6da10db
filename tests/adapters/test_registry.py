"""The adapter registry over real NATS: register, list, activate, deactivate, delete, conflicts, base model, races."""

from __future__ import annotations

import asyncio
import itertools
import json

import msgspec
import pytest
from nats.aio.client import Client
from nats.js.errors import KeyNotFoundError, ObjectNotFoundError

from messages import (
    ActivateAdapter,
    AdapterList,
    AdapterState,
    DeactivateAdapter,
    DeleteAdapter,
    ErrorCode,
    ErrorMessage,
    ListAdapters,
    ModelInfo,
    RegisterAdapter,
    encode,
    subjects,
)
from services.adapters import AdaptersConfig
from services.runtime import Settings
from tests.support.adapters import (
    BASE_MODEL,
    FILES,
    add_adapter,
    ask,
    chosen,
    make_meta,
    read_active,
    registry,
    unique,
    upload,
)


async def listed(nc: Client) -> AdapterList:
    reply = await ask(nc, subjects.ADAPTERS_LIST, ListAdapters())
    assert isinstance(reply, AdapterList), reply
    return reply


async def test_register_then_list_shows_the_metadata(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique("alpaca")
        meta = make_meta(name, final_loss=0.875, steps=30)
        await upload(nc, name)
        reply = await ask(nc, subjects.ADAPTERS_REGISTER, RegisterAdapter(meta=meta))
        assert isinstance(reply, AdapterList)
        assert meta in reply.adapters

        found = {a.name: a for a in (await listed(nc)).adapters}
        assert found[name] == meta
        assert found[name].base_model == BASE_MODEL and found[name].steps == 30 and found[name].final_loss == 0.875

        # plain JSON on the wire, and an empty body lists too (`nats req svc.adapters.list ''`)
        msg = await nc.request(subjects.ADAPTERS_LIST, b"", timeout=5)
        body = json.loads(msg.data)
        assert body["type"] == "adapters"
        assert any(a["name"] == name and a["lora_r"] == 8 for a in body["adapters"])

        # the metadata is in KV under `adapter.<name>`
        kv = await nc.jetstream().key_value(subjects.ADAPTERS_BUCKET)
        entry = await kv.get(subjects.adapter_key(name))
        assert json.loads(entry.value or b"")["dataset"] == meta.dataset


async def test_size_zero_means_the_objects_size(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique()
        await add_adapter(nc, name, size_bytes=0)
        [meta] = [a for a in (await listed(nc)).adapters if a.name == name]
        assert meta.size_bytes == len(FILES)


async def test_activate_and_deactivate_round_trip(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique()
        await add_adapter(nc, name)

        kv = await nc.jetstream().key_value(subjects.ADAPTERS_BUCKET)
        reply = await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))
        written = (await kv.get(subjects.ACTIVE_KEY)).revision
        assert reply == AdapterState(active=name, revision=written)  # the revision that holds the choice
        assert await read_active(nc) == name  # what an inference worker sees
        assert (await listed(nc)).active == name

        again = await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))  # idempotent
        assert again == AdapterState(active=name, revision=written), "nothing written, the same revision"

        reply = await ask(nc, subjects.ADAPTERS_DEACTIVATE, DeactivateAdapter())
        assert reply == AdapterState(active=None, revision=(await kv.get(subjects.ACTIVE_KEY)).revision)
        assert isinstance(reply, AdapterState) and reply.revision > (written or 0)
        assert await read_active(nc) == ""  # empty: the base model
        assert (await listed(nc)).active is None

        msg = await nc.request(subjects.ADAPTERS_DEACTIVATE, b"", timeout=5)  # already the base model
        assert json.loads(msg.data) == {"type": "state", "active": None, "revision": reply.revision}


async def test_an_inference_worker_watching_kv_sees_each_switch(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        first, second = unique("first"), unique("second")
        await add_adapter(nc, first)
        await add_adapter(nc, second)
        await ask(nc, subjects.ADAPTERS_DEACTIVATE, DeactivateAdapter())

        kv = await nc.jetstream().key_value(subjects.ADAPTERS_BUCKET)
        watcher = await kv.watch(subjects.ACTIVE_KEY)
        try:
            assert (await watcher.updates(timeout=5)).value == b""  # the current value first
            assert await watcher.updates(timeout=5) is None  # then the end-of-history marker
            for name in (first, second):
                await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))
            await ask(nc, subjects.ADAPTERS_DEACTIVATE, DeactivateAdapter())
            seen = [(await watcher.updates(timeout=5)).value for _ in range(3)]
            assert seen == [first.encode(), second.encode(), b""]
        finally:
            await watcher.stop()


async def test_delete_removes_the_entry_and_the_files(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        keep, gone = unique("keep"), unique("gone")
        await add_adapter(nc, keep)
        await add_adapter(nc, gone)
        await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=keep))

        reply = await ask(nc, subjects.ADAPTERS_DELETE, DeleteAdapter(name=gone))
        assert isinstance(reply, AdapterList)
        names = [a.name for a in reply.adapters]
        assert gone not in names and keep in names
        assert reply.active == keep  # deleting another adapter leaves the choice alone

        js = nc.jetstream()
        kv = await js.key_value(subjects.ADAPTERS_BUCKET)
        try:
            await kv.get(subjects.adapter_key(gone))
            raise AssertionError("the KV entry is still there")
        except KeyNotFoundError:
            pass
        files = await js.object_store(subjects.ADAPTER_FILES_BUCKET)
        try:
            await files.get_info(gone)
            raise AssertionError("the object is still there")
        except ObjectNotFoundError:
            pass
        assert (await files.get(keep)).data == FILES

        again = await ask(nc, subjects.ADAPTERS_DELETE, DeleteAdapter(name=gone))
        assert isinstance(again, ErrorMessage) and again.code is ErrorCode.NOT_FOUND

        # the name is free again: upload and register anew
        await add_adapter(nc, gone, steps=99)
        [meta] = [a for a in (await listed(nc)).adapters if a.name == gone]
        assert meta.steps == 99


async def test_deleting_the_active_adapter_resets_active(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique()
        await add_adapter(nc, name)
        await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))
        assert await read_active(nc) == name

        reply = await ask(nc, subjects.ADAPTERS_DELETE, DeleteAdapter(name=name))
        assert isinstance(reply, AdapterList) and reply.active is None
        assert name not in [a.name for a in reply.adapters]
        assert await read_active(nc) == ""


async def test_delete_when_the_files_are_already_gone(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique()
        await add_adapter(nc, name)
        files = await nc.jetstream().object_store(subjects.ADAPTER_FILES_BUCKET)
        await files.delete(name)
        reply = await ask(nc, subjects.ADAPTERS_DELETE, DeleteAdapter(name=name))
        assert isinstance(reply, AdapterList) and name not in [a.name for a in reply.adapters]


async def test_a_taken_name_is_a_conflict(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique()
        first = await add_adapter(nc, name)
        reply = await ask(nc, subjects.ADAPTERS_REGISTER, RegisterAdapter(meta=make_meta(name, steps=1)))
        assert isinstance(reply, ErrorMessage)
        assert reply.code is ErrorCode.CONFLICT
        assert reply.field == "meta.name" and f"an adapter named '{name}' exists already" in reply.message
        [stored] = [a for a in (await listed(nc)).adapters if a.name == name]
        assert stored == first  # untouched


async def test_an_unknown_name_is_not_found(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique("nobody")
        for subject, request in (
            (subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name)),
            (subjects.ADAPTERS_DELETE, DeleteAdapter(name=name)),
        ):
            reply = await ask(nc, subject, request)
            assert isinstance(reply, ErrorMessage)
            assert reply.code is ErrorCode.NOT_FOUND
            assert reply.field == "name" and reply.message == f"names no saved adapter ('{name}')"


async def test_register_needs_the_uploaded_files(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique("nofiles")
        reply = await ask(nc, subjects.ADAPTERS_REGISTER, RegisterAdapter(meta=make_meta(name)))
        assert isinstance(reply, ErrorMessage)
        assert reply.code is ErrorCode.NOT_FOUND
        assert "upload the adapter's files to the object store first" in reply.message
        assert name not in [a.name for a in (await listed(nc)).adapters]


async def test_an_adapter_for_another_base_model_cannot_be_activated(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):  # BASE_MODEL_ID = test-org/base-model
        mine, foreign = unique("mine"), unique("foreign")
        await add_adapter(nc, mine)
        await add_adapter(nc, foreign, base_model="meta-llama/Llama-3.2-1B")  # registering is fine
        await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=mine))

        reply = await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=foreign))
        assert isinstance(reply, ErrorMessage)
        assert reply.code is ErrorCode.INCOMPATIBLE
        assert "was trained on 'meta-llama/Llama-3.2-1B'" in reply.message
        assert f"serves '{BASE_MODEL}'" in reply.message
        assert await read_active(nc) == mine  # the choice did not change

        # ids compare without case or a trailing slash
        same = unique("same")
        await add_adapter(nc, same, base_model=BASE_MODEL.upper() + "/")
        assert chosen(await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=same))) == same


async def test_without_base_model_id_the_registry_asks_inference(
    nc: Client, base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    name = unique()
    async with registry(nc, base_settings, AdaptersConfig(base_model_id=None, info_timeout_s=1.0)):
        await add_adapter(nc, name)

        # no inference worker: the check is skipped (and logged), activation works
        assert chosen(await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))) == name
        assert any("without the base-model check" in r.getMessage() for r in caplog.records)

        # a worker (a plain NATS responder here) serving another model: refused
        info = ModelInfo(
            model_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            device="cpu",
            dtype="bfloat16",
            load_in_4bit=False,
            context_length=8192,
            state="ready",
            worker_id="fake",
        )

        async def on_info(msg: object) -> None:
            await msg.respond(encode(info))  # type: ignore[attr-defined]

        sub = await nc.subscribe(subjects.INFERENCE_INFO, queue=subjects.INFERENCE_QUEUE, cb=on_info)
        try:
            await nc.flush()
            reply = await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))
            assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.INCOMPATIBLE
            assert "SmolLM2-135M-Instruct" in reply.message

            info = msgspec.structs.replace(info, model_id=BASE_MODEL)  # now it serves the adapter's base model
            assert chosen(await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))) == name
        finally:
            await sub.unsubscribe()


async def test_concurrent_activations_leave_consistent_state(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        one, two = unique("one"), unique("two")
        await add_adapter(nc, one)
        await add_adapter(nc, two)
        kv = await nc.jetstream().key_value(subjects.ADAPTERS_BUCKET)
        before = (await kv.get(subjects.ACTIVE_KEY)).revision or 0

        names = [one if i % 2 == 0 else two for i in range(20)]
        replies = await asyncio.gather(
            *(ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name)) for name in names)
        )
        assert [chosen(reply) for reply in replies] == names  # each request was honoured in turn

        final = await kv.get(subjects.ACTIVE_KEY)
        assert final.value in (one.encode(), two.encode())
        last = max((reply for reply in replies if isinstance(reply, AdapterState)), key=lambda r: r.revision)
        assert last.revision == final.revision and last.active == final.value.decode(), "the newest answer holds"
        assert (await listed(nc)).active == (final.value or b"").decode()

        history = await kv.history(subjects.ACTIVE_KEY)
        revisions = [entry.revision or 0 for entry in history]
        assert revisions == sorted(set(revisions))  # strictly increasing, no duplicates
        assert history[-1].revision == final.revision and history[-1].value == final.value
        recent = [entry for entry in history if (entry.revision or 0) > before]
        assert recent, "no write happened"
        assert all(entry.value in (one.encode(), two.encode()) for entry in recent)
        # revision-checked writes never write the value that is already there
        assert all(a.value != b.value for a, b in itertools.pairwise(history))


async def test_registered_as_a_micro_service(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        msg = await nc.request(f"$SRV.INFO.{subjects.ADAPTERS_SERVICE}", b"", timeout=5)
        info = json.loads(msg.data)
        assert info["name"] == "adapters"
        assert {e["name"]: e["subject"] for e in info["endpoints"]} == {
            "list": subjects.ADAPTERS_LIST,
            "activate": subjects.ADAPTERS_ACTIVATE,
            "deactivate": subjects.ADAPTERS_DEACTIVATE,
            "delete": subjects.ADAPTERS_DELETE,
            "register": subjects.ADAPTERS_REGISTER,
        }
        assert all(e["queue_group"] == subjects.ADAPTERS_QUEUE for e in info["endpoints"])
        assert info["metadata"]["base_model"] == BASE_MODEL
