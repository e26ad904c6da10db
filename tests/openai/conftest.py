"""Fixtures of the OpenAI API's tests: `base_url`, a module's real stack (the registry with one adapter,
`pirate`; a bundled-model inference worker; a gateway) at its `/v1`, and `v1`, a gateway beside a scripted
worker (`scripted.py`) for the front ends' translation alone. Each module gets its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from services.adapters import AdaptersActor, AdaptersConfig
from services.inference import InferenceActor, InferenceConfig
from services.runtime import BUNDLED_MODEL_ID, Settings, running
from services.runtime.testing import make_lora, register_adapter
from tests.conftest import worker_settings
from tests.openai.scripted import ScriptedV1, scripted_v1
from tests.support.gateway import gateway


@pytest.fixture(scope="module")
async def base_url(
    own_nc: Client, own_settings: Settings, bundled_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    registry = worker_settings(own_settings)
    worker = worker_settings(own_settings)
    async with running(AdaptersActor(registry, AdaptersConfig(base_model_id=BUNDLED_MODEL_ID)), registry):
        folder = await asyncio.to_thread(make_lora, bundled_model, tmp_path_factory.mktemp("pirate"), 3)
        await register_adapter(own_nc, "pirate", folder)
        async with running(InferenceActor(worker, InferenceConfig(max_concurrency=4)), worker):
            async with gateway(worker_settings(own_settings)) as url:
                yield url.replace("/graphql", "/v1")


@pytest.fixture(scope="module")
async def v1(own_settings: Settings) -> AsyncIterator[ScriptedV1]:
    async with scripted_v1(own_settings) as scripted:
        yield scripted
