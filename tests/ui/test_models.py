"""Which model answers, in real Chromium (ui/e2e/models.mjs): "Base model" stays the base model once an adapter is made
active, the server's active model is a choice of its own, the header names what answers the open conversation, and
the Models table says that Make active is for everyone, with one control per change. A small random LoRA adapter is
registered the way training registers one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import nats
from services.runtime.testing import make_lora, register_adapter
from tests.support.ui import AppStack, graphql, run_flow

ADAPTER = "ui-models-pick"


async def _register(stack: AppStack, bundled_model: Path, folder: Path) -> None:
    nc = await nats.connect(stack.nats.url, **stack.nats.login())
    try:
        await register_adapter(nc, ADAPTER, await asyncio.to_thread(make_lora, bundled_model, folder, 7))
    finally:
        await nc.drain()


@pytest.mark.timeout(420)
def test_base_model_stays_chosen_and_make_active_is_for_everyone(
    app_stack: AppStack, bundled_model: Path, tmp_path: Path
) -> None:
    asyncio.run(_register(app_stack, bundled_model, tmp_path / ADAPTER))
    try:
        result = run_flow(app_stack, "models", ADAPTER=ADAPTER)
    finally:
        # the shared stack goes on with the base model active and without this adapter
        graphql(app_stack.graphql_url, "mutation { useBaseModel { ok } }")
        graphql(app_stack.graphql_url, f'mutation {{ deleteAdapter(adapterName: "{ADAPTER}") {{ ok }} }}')
    figures = result.figures
    assert figures["baseTurn"] == {"baseModel": True, "adapter": None}
    assert "for everyone" in figures["note"]
