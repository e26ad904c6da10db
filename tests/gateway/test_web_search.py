"""webSearch through the gateway: grounded answers with sources first, a notice when search fails,
and the raw `webSearch` query. The search service runs for real with a local fake backend."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from messages import SearchResult
from services.runtime import Settings, running
from services.search import SearchActor, SearchConfig
from services.search.backend import BackendError
from tests.conftest import worker_settings
from tests.support.fake_search import FakeSearchBackend
from tests.support.gateway import stack
from tests.support.graphql_client import Subscription, post

PRIZE = SearchResult(
    title="Zorblat Prize 2026 announced",
    url="https://news.example/zorblat",
    snippet="The 2026 Zorblat Prize for astronomy was awarded to Mirela Quastenfeld for mapping comets.",
)
STREAM = """subscription($p: String!) {
  inferStream(prompt: $p, webSearch: true, maxNewTokens: 40) { token done seq sources { title url } searchNotice }
}"""
QUESTION = "Who won the 2026 Zorblat Prize?"


@pytest.fixture(scope="module")
def backend() -> FakeSearchBackend:
    return FakeSearchBackend(results=[PRIZE])


@pytest.fixture(scope="module")
async def url(base_settings: Settings, bundled_model: object, backend: FakeSearchBackend) -> AsyncIterator[str]:
    settings = worker_settings(base_settings)
    config = SearchConfig(timeout_s=2.0, min_interval_s=0.0, cache_ttl_s=0.0)
    async with running(SearchActor(settings, config, backend), settings), stack(base_settings) as graphql_url:
        yield graphql_url


@contextlib.contextmanager
def failing(backend: FakeSearchBackend, error: Exception):  # type: ignore[no-untyped-def]
    backend.error = error
    try:
        yield
    finally:
        backend.error = None


async def test_stream_is_grounded_with_sources_first(url: str, backend: FakeSearchBackend) -> None:
    async with Subscription(url, STREAM, {"p": QUESTION}) as sub:
        chunks = [m["data"]["inferStream"] async for m in sub.messages()]
    assert backend.calls[-1].query == QUESTION and backend.calls[-1].max_results == 4
    assert chunks[0]["sources"] == [{"title": PRIZE.title, "url": PRIZE.url}]
    assert chunks[0]["searchNotice"] is None
    assert all(c["sources"] is None for c in chunks[1:])
    assert "Quastenfeld" in "".join(c["token"] for c in chunks)


async def test_mutation_is_grounded(url: str) -> None:
    body = await post(
        url, f'mutation {{ infer(prompt: "{QUESTION}", webSearch: true) {{ text sources {{ url }} searchNotice }} }}'
    )
    result = body["data"]["infer"]
    assert "Quastenfeld" in result["text"]
    assert result["sources"] == [{"url": PRIZE.url}] and result["searchNotice"] is None


async def test_failed_search_still_answers_with_a_notice(url: str, backend: FakeSearchBackend) -> None:
    with failing(backend, BackendError("offline", "web search is unreachable from this machine (offline)")):
        async with Subscription(url, STREAM, {"p": "What is the capital of France?"}) as sub:
            chunks = [m["data"]["inferStream"] async for m in sub.messages()]
    assert chunks[0]["sources"] == []
    assert "unreachable" in chunks[0]["searchNotice"]
    assert "Paris" in "".join(c["token"] for c in chunks)
    assert chunks[-1]["done"]


async def test_without_web_search_no_search_is_made(url: str, backend: FakeSearchBackend) -> None:
    before = backend.call_count
    body = await post(url, 'mutation { infer(prompt: "Hi", maxNewTokens: 3) { sources { url } searchNotice } }')
    assert body["data"]["infer"] == {"sources": [], "searchNotice": None}
    assert backend.call_count == before


async def test_web_search_query_returns_raw_results(url: str) -> None:
    body = await post(url, '{ webSearch(query: "zorblat prize") { title url snippet } }')
    assert body["data"]["webSearch"] == [{"title": PRIZE.title, "url": PRIZE.url, "snippet": PRIZE.snippet}]


async def test_web_search_query_errors_are_typed(url: str, backend: FakeSearchBackend) -> None:
    with failing(backend, BackendError("rate_limited", "DuckDuckGo is rate limiting us; try again in a minute")):
        body = await post(url, '{ webSearch(query: "zorblat") { title } }')
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "rate limiting" in body["errors"][0]["message"]
    bad = await post(url, '{ webSearch(query: "") { title } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
