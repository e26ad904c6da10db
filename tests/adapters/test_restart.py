"""A restarted registry finds everything where it was: adapters, their files and the active choice."""

from __future__ import annotations

from dataclasses import replace

from nats.aio.client import Client

from messages import ActivateAdapter, AdapterList, ListAdapters, subjects
from services.runtime import Settings
from tests.support.adapters import CONFIG, FILES, add_adapter, ask, chosen, read_active, registry, unique


async def test_adapters_and_the_active_choice_survive_a_restart(nc: Client, base_settings: Settings) -> None:
    first, second = unique("first"), unique("second")
    async with registry(nc, base_settings):
        meta_first = await add_adapter(nc, first)
        meta_second = await add_adapter(nc, second, steps=3)
        assert chosen(await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=second))) == second
        before = await ask(nc, subjects.ADAPTERS_LIST, ListAdapters())

    async with registry(nc, base_settings):  # a fresh actor, new connection, same nats-server
        after = await ask(nc, subjects.ADAPTERS_LIST, ListAdapters())
        assert isinstance(after, AdapterList)
        assert after == before
        assert after.active == second
        found = {a.name: a for a in after.adapters}
        assert found[first] == meta_first and found[second] == meta_second
        assert await read_active(nc) == second

        files = await nc.jetstream().object_store(subjects.ADAPTER_FILES_BUCKET)
        assert (await files.get(first)).data == FILES

        # and it still writes: the revision it reads after the restart is the one it updates
        assert chosen(await ask(nc, subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=first))) == first
        assert await read_active(nc) == first


async def test_a_restart_with_another_history_setting_keeps_the_data(nc: Client, base_settings: Settings) -> None:
    name = unique()
    async with registry(nc, base_settings):
        meta = await add_adapter(nc, name)
    kv = await nc.jetstream().key_value(subjects.ADAPTERS_BUCKET)
    async with registry(nc, base_settings, replace(CONFIG, kv_history=9)):
        assert (await kv.status()).history == 9
        listed = await ask(nc, subjects.ADAPTERS_LIST, ListAdapters())
        assert isinstance(listed, AdapterList) and meta in listed.adapters
    async with registry(nc, base_settings):  # back to the default
        assert (await kv.status()).history == CONFIG.kv_history
