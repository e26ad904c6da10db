"""The real search service in this process on a stand-in backend (tests/support/fake_search.py), asked over
NATS as the gateway asks it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nats.aio.client import Client

from messages import ErrorMessage, SearchQuery, SearchReply, decode, encode, subjects
from services.runtime import Settings, running
from services.runtime.testing import until_answering
from services.search import SearchActor, SearchConfig
from tests.conftest import worker_settings
from tests.support.fake_search import FakeSearchBackend

FAST = SearchConfig(timeout_s=5.0, min_interval_s=0.0)


@asynccontextmanager
async def search_worker(
    nc: Client, base: Settings, backend: FakeSearchBackend, config: SearchConfig = FAST
) -> AsyncIterator[None]:
    settings = worker_settings(base)
    async with running(SearchActor(settings, config, backend), settings):
        await until_answering(nc, subjects.SEARCH_QUERY)
        yield


async def raw(nc: Client, payload: bytes, timeout: float = 10.0) -> tuple[SearchReply, bool]:
    """Send a payload; return the decoded reply and whether micro's error headers were set."""
    msg = await nc.request(subjects.SEARCH_QUERY, payload, timeout=timeout)
    flagged = bool(msg.headers and msg.headers.get("Nats-Service-Error-Code"))
    return decode(msg.data, SearchReply), flagged  # type: ignore[arg-type]


async def ask(nc: Client, query: str, max_results: int | None = None, timeout: float = 10.0) -> SearchReply:
    reply, flagged = await raw(nc, encode(SearchQuery(query=query, max_results=max_results)), timeout)
    assert flagged == isinstance(reply, ErrorMessage)
    return reply
