"""The search service over real NATS with a fake backend: results, cache, timeout, rate limit, errors, bad input."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest
from nats.aio.client import Client

from messages import (
    ErrorCode,
    ErrorMessage,
    SearchResults,
    describe,
    subjects,
)
from services.runtime import Settings
from services.search import BackendError, SearchConfig
from tests.support.fake_search import FakeSearchBackend, sample_results
from tests.support.search import ask, raw, search_worker


async def test_results(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(6))
    async with search_worker(
        nc, base_settings, backend, SearchConfig(timeout_s=5.0, min_interval_s=0.0, max_results=3)
    ):
        reply = await ask(nc, "  what is   NATS ", max_results=2)
        assert isinstance(reply, SearchResults)
        assert reply.query == "what is NATS"
        assert reply.cached is False
        assert [r.url for r in reply.results] == ["https://example.org/1", "https://example.org/2"]
        assert reply.results[0].title == "Result 1" and reply.results[0].snippet == "snippet number 1"
        assert backend.calls[0].query == "what is NATS" and backend.calls[0].max_results == 2

        default = await ask(nc, "another question")  # no max_results: the service's SEARCH_MAX_RESULTS
        assert isinstance(default, SearchResults) and len(default.results) == 3

        msg = await nc.request(subjects.SEARCH_QUERY, b'{"query": "as plain json"}', timeout=5)
        body = json.loads(msg.data)
        assert body["type"] == "results" and body["cached"] is False and len(body["results"]) == 3


async def test_empty_results_are_not_an_error(nc: Client, base_settings: Settings) -> None:
    async with search_worker(nc, base_settings, FakeSearchBackend(results=[])):
        reply = await ask(nc, "nothing matches this")
        assert reply == SearchResults(query="nothing matches this", results=[], cached=False)


async def test_registered_as_a_micro_service(nc: Client, base_settings: Settings) -> None:
    async with search_worker(nc, base_settings, FakeSearchBackend()):
        msg = await nc.request(f"$SRV.INFO.{subjects.SEARCH_SERVICE}", b"", timeout=5)
        info = json.loads(msg.data)
        assert info["name"] == "search"
        [endpoint] = info["endpoints"]
        assert endpoint["subject"] == subjects.SEARCH_QUERY
        assert endpoint["queue_group"] == subjects.SEARCH_QUEUE


async def test_slow_backend_times_out_promptly(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(2), delay_s=2.5)
    async with search_worker(nc, base_settings, backend, SearchConfig(timeout_s=1.0, min_interval_s=0.0)):
        started = time.monotonic()
        reply = await ask(nc, "slow question")
        elapsed = time.monotonic() - started
        assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.TIMEOUT
        assert "1s" in reply.message
        assert 0.9 <= elapsed < 2.0

        # the event loop was never blocked: other work is answered while the thread still runs
        backend.delay_s = 0.0
        quick = await ask(nc, "quick question", timeout=1.0)
        assert isinstance(quick, SearchResults)

        # the late answer is not wasted: once the thread ends, it is in the cache
        await asyncio.sleep(2.0)
        again = await ask(nc, "slow question")
        assert isinstance(again, SearchResults) and again.cached is True and len(again.results) == 2
        assert backend.call_count == 2


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (
            BackendError("offline", "web search is unreachable from this machine (offline)"),
            ErrorCode.OFFLINE,
            "offline",
        ),
        (BackendError("rate_limited", "the provider says slow down"), ErrorCode.RATE_LIMITED, "slow down"),
        (BackendError("failed", "web search failed: odd page"), ErrorCode.UNAVAILABLE, "odd page"),
        (RuntimeError("boom"), ErrorCode.UNAVAILABLE, "boom"),
    ],
)
async def test_backend_error_is_typed_and_the_service_keeps_serving(
    nc: Client, base_settings: Settings, error: Exception, code: ErrorCode, words: str
) -> None:
    backend = FakeSearchBackend(results=sample_results(1), error=error)
    async with search_worker(nc, base_settings, backend):
        reply = await ask(nc, "will fail")
        assert isinstance(reply, ErrorMessage)
        assert reply.code is code
        assert words in describe(reply.message, reply.field)

        backend.error = None
        retry = await ask(nc, "will fail")  # failures are not cached
        assert isinstance(retry, SearchResults) and retry.cached is False and len(retry.results) == 1
        assert backend.call_count == 2


async def test_cache_hit(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(4))
    async with search_worker(nc, base_settings, backend):
        first = await ask(nc, "Capital of France", max_results=3)
        second = await ask(nc, "  capital of   FRANCE ", max_results=3)
        assert isinstance(first, SearchResults) and isinstance(second, SearchResults)
        assert first.cached is False and second.cached is True
        assert second.results == first.results
        assert second.query == "capital of FRANCE"
        assert backend.call_count == 1

        other = await ask(nc, "Capital of France", max_results=1)  # another size is another entry
        assert isinstance(other, SearchResults) and other.cached is False and len(other.results) == 1
        assert backend.call_count == 2


async def test_cache_entries_expire(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(1))
    async with search_worker(
        nc, base_settings, backend, SearchConfig(timeout_s=5.0, min_interval_s=0.0, cache_ttl_s=0.3)
    ):
        assert isinstance(await ask(nc, "fresh"), SearchResults)
        await asyncio.sleep(0.5)
        reply = await ask(nc, "fresh")
        assert isinstance(reply, SearchResults) and reply.cached is False
        assert backend.call_count == 2


async def test_rate_limit_spaces_backend_calls(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(1))
    async with search_worker(nc, base_settings, backend, SearchConfig(timeout_s=5.0, min_interval_s=1.0)):
        first = await ask(nc, "first question")
        started = time.monotonic()
        second = await ask(nc, "second question")
        waited = time.monotonic() - started
        assert isinstance(first, SearchResults) and isinstance(second, SearchResults)
        gap = backend.calls[1].at - backend.calls[0].at
        assert gap >= 0.95, gap
        assert 0.7 <= waited < 2.0, waited

        # several at once: served one per interval, in order, none refused
        replies = await asyncio.gather(*(ask(nc, f"burst {i}") for i in range(3)))
        assert all(isinstance(r, SearchResults) for r in replies)
        times = [c.at for c in backend.calls[2:]]
        assert all(b - a >= 0.95 for a, b in itertools.pairwise(times)), times


async def test_rate_limited_when_the_wait_exceeds_the_timeout(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(1))
    async with search_worker(nc, base_settings, backend, SearchConfig(timeout_s=0.5, min_interval_s=3.0)):
        assert isinstance(await ask(nc, "first question"), SearchResults)
        started = time.monotonic()
        reply = await ask(nc, "second question")
        assert time.monotonic() - started < 0.4  # refused at once, not after waiting
        assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.RATE_LIMITED
        assert "try again" in reply.message
        assert backend.call_count == 1

        cached = await ask(nc, "first question")  # cache hits are not rate limited
        assert isinstance(cached, SearchResults) and cached.cached is True


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b'{"query": ""}', "query"),
        (b'{"query": "   "}', "`query` must not be empty"),
        (b'{"query": "' + b"x" * 501 + b'"}', "`query` must have at most 500 characters"),
        (b"{}", "`query` is required"),
        (b'{"query": 42}', "`query` must be a string"),
        (b'{"query": "hi", "max_results": 0}', "`max_results` must be at least 1"),
        (b'{"query": "hi", "max_results": 99}', "must be at most 10"),
        (b'{"query": "hi", "max_results": "four"}', "max_results"),
        (b'{"query": "hi", "colour": "red"}', "`colour` is not something"),
        (b'{"query": "hi", "request_id": "../x"}', "request_id"),
        (b"not json", "malformed JSON"),
        (b"", "malformed JSON"),
        (b"[1, 2]", "invalid request"),
        (b'"hi"', "invalid request"),
    ],
)
async def test_bad_input_is_a_typed_error(nc: Client, base_settings: Settings, payload: bytes, words: str) -> None:
    backend = FakeSearchBackend(results=sample_results(1))
    async with search_worker(nc, base_settings, backend):
        reply, flagged = await raw(nc, payload)
        assert flagged
        assert isinstance(reply, ErrorMessage)
        assert reply.code is ErrorCode.BAD_REQUEST
        assert words in describe(reply.message, reply.field)
        assert backend.call_count == 0


async def test_keeps_serving_after_bad_input(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(2))
    async with search_worker(nc, base_settings, backend):
        for payload in (b"garbage", b'{"query": ""}', b'{"query": "x", "max_results": 99}', b"\xff\xfe"):
            reply, _ = await raw(nc, payload)
            assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.BAD_REQUEST
        good = await ask(nc, "still here?", max_results=2)
        assert isinstance(good, SearchResults) and len(good.results) == 2
