"""Shared fixtures: a real nats-server per session, the bundled and a tiny model, running actors."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from nats.aio.client import Client

import nats
from services.runtime import Settings, ensure_bundled_model, setup_logging
from services.runtime.testing import NatsServer, free_port, nats_server_binary, wait_for_port  # noqa: F401 (tests import them from here)

if TYPE_CHECKING:
    from tests.support.ui import AppStack

setup_logging("INFO")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    server = NatsServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def own_nats() -> Iterator[NatsServer]:
    """A nats-server for one test module, for tests that need the registry's buckets to themselves."""
    server = NatsServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
async def own_nc(own_nats: NatsServer) -> AsyncIterator[Client]:
    """A client of the module's own nats-server."""
    client = await nats.connect(own_nats.url)
    yield client
    await client.drain()


@pytest.fixture(scope="module")
def own_settings(base_settings: Settings, own_nats: NatsServer) -> Settings:
    return replace(base_settings, nats_url=own_nats.url)


@pytest.fixture(scope="session")
def model_cache() -> Path:
    return Path(os.environ.get("MODEL_CACHE_DIR", Path.home() / ".cache" / "switchboard" / "models"))


@pytest.fixture(scope="session")
def bundled_model(model_cache: Path) -> Path:
    return ensure_bundled_model(model_cache)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def base_settings(nats_server: NatsServer, model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        nats_url=nats_server.url,
        model_cache_dir=model_cache,
        adapter_dir=tmp_path_factory.mktemp("adapters"),
        connect_timeout_s=5,
        worker_id="test-" + uuid.uuid4().hex[:6],
    )


@pytest.fixture(scope="module")
async def training_service(base_settings: Settings, bundled_model: Path) -> AsyncIterator[object]:
    """The registry and a training service (the fast TINY config) on the session's nats-server, per test module."""
    from tests.support.training import training

    client = await nats.connect(base_settings.nats_url)
    try:
        async with training(client, base_settings) as actor:
            yield actor
    finally:
        await client.drain()


def worker_settings(base: Settings, **changes: object) -> Settings:
    return replace(base, worker_id="w-" + uuid.uuid4().hex[:8], **changes)  # type: ignore[arg-type]


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.drain()


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(interval)


@pytest.fixture(scope="session")
def app_stack() -> Iterator[AppStack]:
    """The browser tests' whole stack (tests/support/ui.py), one for the session: defined here, so that every
    test module shares it (a session fixture imported into each module starts once per module)."""
    from tests.support.ui import running_app_stack

    with running_app_stack() as stack:
        yield stack
