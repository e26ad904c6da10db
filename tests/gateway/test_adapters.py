"""Adapters through GraphQL: list, loadAdapter switches the live model (modelInfo shows it),
useBaseModel reverts, per-request `adapter`, deleteAdapter, clear errors for bad names."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import nats
from services.adapters import AdaptersActor
from services.runtime import Settings, running
from services.runtime.testing import make_lora, register_adapter
from tests.conftest import NatsServer, worker_settings
from tests.support.gateway import stack
from tests.support.graphql_client import post

ASK = 'mutation { infer(prompt: "What is the capital of France?", maxNewTokens: 12%s) { text } }'


@pytest.fixture(scope="module")
async def url(
    own_nats: NatsServer, own_settings: Settings, bundled_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    registry = worker_settings(own_settings)
    async with running(AdaptersActor(registry), registry), stack(own_settings) as graphql_url:
        nc = await nats.connect(own_nats.url)
        for seed, name in enumerate(["gql-a", "gql-b"]):
            folder = await asyncio.to_thread(make_lora, bundled_model, tmp_path_factory.mktemp(name), seed + 10)
            await register_adapter(nc, name, folder)
        await nc.drain()
        yield graphql_url


async def answer(url: str, extra: str = "") -> str:
    body = await post(url, ASK % extra)
    return str(body["data"]["infer"]["text"])


async def test_list(url: str) -> None:
    body = await post(url, "{ adapters { available active adapters { name baseModel steps sizeBytes } } }")
    listed = body["data"]["adapters"]
    assert listed["available"] == ["gql-a", "gql-b"] and listed["active"] is None
    assert listed["adapters"][0]["baseModel"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert listed["adapters"][0]["sizeBytes"] > 0


async def test_load_then_use_base_model(url: str) -> None:
    base = await answer(url)
    body = await post(url, 'mutation { loadAdapter(adapterName: "gql-a") { ok error activeAdapter } }')
    assert body["data"]["loadAdapter"] == {"ok": True, "error": None, "activeAdapter": "gql-a"}
    info = await post(url, "{ modelInfo { activeAdapter } }")
    assert info["data"]["modelInfo"]["activeAdapter"] == "gql-a", (
        "the worker applied it by the time loadAdapter returned"
    )
    assert await answer(url) != base
    body = await post(url, "mutation { useBaseModel { ok activeAdapter } }")
    assert body["data"]["useBaseModel"] == {"ok": True, "activeAdapter": None}
    assert await answer(url) == base


async def test_per_request_adapter(url: str) -> None:
    base = await answer(url)
    assert await answer(url, ', adapter: "gql-b"') != base
    assert await answer(url) == base


async def test_base_model_per_request_while_an_adapter_is_active(url: str) -> None:
    base = await answer(url)
    await post(url, 'mutation { loadAdapter(adapterName: "gql-a") { ok } }')
    try:
        adapted = await answer(url)
        assert adapted != base
        assert await answer(url, ", baseModel: true") == base
        assert await answer(url, ", baseModel: false") == adapted
        both = await post(url, ASK % ', adapter: "gql-b", baseModel: true')
        assert both["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "either an adapter or the base model" in both["errors"][0]["message"]
    finally:
        await post(url, "mutation { useBaseModel { ok } }")


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("../x", "BAD_REQUEST", "`adapterName` is not a valid adapter name"),
        ("", "BAD_REQUEST", "`adapterName` is not a valid adapter name"),
        ("nope", "NOT_FOUND", "`adapterName` names no saved adapter ('nope'); `adapters` lists them"),
    ],
)
async def test_load_errors(url: str, name: str, code: str, words: str) -> None:
    body = await post(url, f'mutation {{ loadAdapter(adapterName: "{name}") {{ ok error errorCode activeAdapter }} }}')
    result = body["data"]["loadAdapter"]
    assert result["ok"] is False and result["errorCode"] == code and words in result["error"]


async def test_unknown_per_request_adapter(url: str) -> None:
    body = await post(url, ASK % ', adapter: "nope"')
    assert body["errors"][0]["extensions"]["code"] == "ADAPTER_MISSING"


async def test_delete(url: str) -> None:
    await post(url, 'mutation { loadAdapter(adapterName: "gql-b") { ok } }')
    body = await post(url, 'mutation { deleteAdapter(adapterName: "gql-b") { ok error activeAdapter } }')
    assert body["data"]["deleteAdapter"] == {"ok": True, "error": None, "activeAdapter": None}
    listed = await post(url, "{ adapters { available active } }")
    assert listed["data"]["adapters"] == {"available": ["gql-a"], "active": None}
    again = await post(url, 'mutation { deleteAdapter(adapterName: "gql-b") { ok errorCode } }')
    assert again["data"]["deleteAdapter"] == {"ok": False, "errorCode": "NOT_FOUND"}
