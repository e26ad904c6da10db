"""The real ddgs backend on a machine without internet: a typed error within the timeout, never a hang."""

from __future__ import annotations

import time

import pytest
from nats.aio.client import Client

from messages import ErrorCode, ErrorMessage, SearchQuery, SearchReply, SearchResults, decode, encode, subjects
from services.runtime import Settings, running
from services.runtime.testing import until_answering
from services.search import DdgsBackend, SearchActor, SearchConfig
from tests.conftest import free_port, worker_settings

TIMEOUT_S = 5.0


async def ask(nc: Client, query: str) -> tuple[SearchReply, float]:
    started = time.monotonic()
    msg = await nc.request(subjects.SEARCH_QUERY, encode(SearchQuery(query=query)), timeout=TIMEOUT_S + 5)
    return decode(msg.data, SearchReply), time.monotonic() - started  # type: ignore[arg-type]


async def test_real_ddgs_answers_in_time(nc: Client, base_settings: Settings) -> None:
    settings = worker_settings(base_settings)
    actor = SearchActor(settings, SearchConfig(timeout_s=TIMEOUT_S, min_interval_s=0.0))
    assert isinstance(actor.backend, DdgsBackend)
    async with running(actor, settings):
        await until_answering(nc, subjects.SEARCH_QUERY)
        reply, elapsed = await ask(nc, "capital of France")
    assert elapsed < TIMEOUT_S + 2, elapsed
    if isinstance(reply, SearchResults):  # a machine with internet: real results are fine too
        return
    assert isinstance(reply, ErrorMessage)
    assert reply.code in (ErrorCode.OFFLINE, ErrorCode.TIMEOUT), reply
    if reply.code is ErrorCode.OFFLINE:
        assert "offline" in reply.message


async def test_unreachable_network_is_offline(
    nc: Client, base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through a proxy that refuses connections, ddgs fails the same way on every machine."""
    monkeypatch.setenv("DDGS_PROXY", f"http://127.0.0.1:{free_port()}")
    settings = worker_settings(base_settings)
    async with running(SearchActor(settings, SearchConfig(timeout_s=TIMEOUT_S, min_interval_s=0.0)), settings):
        await until_answering(nc, subjects.SEARCH_QUERY)
        reply, elapsed = await ask(nc, "capital of France")
    assert elapsed < TIMEOUT_S + 2, elapsed
    assert isinstance(reply, ErrorMessage)
    assert reply.code is ErrorCode.OFFLINE
    # found by the reachability check before ddgs is asked: the proxy is named
    assert reply.message.startswith(
        "web search is unreachable from this machine (offline): cannot connect to 127.0.0.1"
    )
