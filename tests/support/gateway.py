"""Fixtures that run the gateway (on a free port) beside a bundled-model inference worker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.gateway import GatewayActor, GatewayConfig
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings


@contextlib.asynccontextmanager
async def gateway(settings: Settings, **config: object) -> AsyncIterator[str]:
    """Run a gateway; yields its GraphQL URL."""
    actor = GatewayActor(settings, GatewayConfig(port=0, **config))  # type: ignore[arg-type]
    async with running(actor, settings):
        yield f"http://127.0.0.1:{actor.port}/graphql"


@contextlib.asynccontextmanager
async def stack(base: Settings, max_concurrency: int = 2, **gateway_config: object) -> AsyncIterator[str]:
    """Inference worker plus gateway; yields the GraphQL URL."""
    worker = worker_settings(base)
    async with running(InferenceActor(worker, InferenceConfig(max_concurrency=max_concurrency)), worker):
        async with gateway(worker_settings(base), **gateway_config) as url:
            yield url
