"""Offline, a search fails within seconds (SEARCH_PROBE_TIMEOUT_S), not after its whole timeout; the check is
remembered, shared by concurrent searches, and made against the proxy when DDGS_PROXY names one."""

from __future__ import annotations

import asyncio
import socket

import pytest
from nats.aio.client import Client

from messages import ErrorCode, ErrorMessage, SearchResults
from services.runtime import Settings
from services.search import SearchConfig
from services.search.backend import DdgsBackend, first_hop
from services.search.reachability import Reachability
from tests.conftest import free_port
from tests.support.fake_search import FakeSearchBackend, sample_results
from tests.support.search import ask, search_worker


async def test_a_network_that_does_not_answer_fails_in_the_probe_time_not_the_search_timeout(
    nc: Client, base_settings: Settings
) -> None:
    backend = FakeSearchBackend(results=sample_results(2), probe_delay_s=4.0)
    config = SearchConfig(timeout_s=30.0, min_interval_s=0.0, probe_timeout_s=0.5)
    async with search_worker(nc, base_settings, backend, config):
        reply = await ask(nc, "lighthouses", timeout=3.0)  # the search's own budget is 30 s
    assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.OFFLINE
    assert "no answer from the network within 0.5s" in reply.message
    assert backend.calls == []


async def test_offline_is_remembered_and_says_why(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(2), down="cannot connect to html.duckduckgo.com:443")
    config = SearchConfig(timeout_s=5.0, min_interval_s=0.0, probe_timeout_s=1.0)
    async with search_worker(nc, base_settings, backend, config):
        replies = [await ask(nc, f"query {i}") for i in range(3)]
    assert all(isinstance(r, ErrorMessage) and r.code is ErrorCode.OFFLINE for r in replies), replies
    assert "html.duckduckgo.com:443" in replies[0].message  # type: ignore[union-attr]
    assert backend.probes == 1 and backend.calls == []


async def test_a_reachable_web_is_checked_once_for_many_searches(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(2))
    config = SearchConfig(timeout_s=5.0, min_interval_s=0.0, probe_timeout_s=1.0)
    async with search_worker(nc, base_settings, backend, config):
        replies = await asyncio.gather(*(ask(nc, f"query {i}") for i in range(4)))
    assert all(isinstance(r, SearchResults) and len(r.results) == 2 for r in replies), replies
    assert backend.probes == 1 and len(backend.calls) == 4


async def test_probe_timeout_zero_skips_the_check(nc: Client, base_settings: Settings) -> None:
    backend = FakeSearchBackend(results=sample_results(1), down="would refuse")
    async with search_worker(nc, base_settings, backend, SearchConfig(min_interval_s=0.0, probe_timeout_s=0.0)):
        reply = await ask(nc, "anything")
    assert isinstance(reply, SearchResults) and backend.probes == 0


async def test_concurrent_checks_share_one_probe() -> None:
    probes: list[float] = []

    def check(timeout_s: float) -> str | None:
        probes.append(timeout_s)
        return "down"

    reach = Reachability(check, timeout_s=1.0)
    answers = await asyncio.gather(*(reach.why_down() for _ in range(5)))
    assert answers == ["down"] * 5 and probes == [1.0]


def test_the_ddgs_backend_checks_the_proxy_it_goes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = free_port()
    monkeypatch.setenv("DDGS_PROXY", f"http://127.0.0.1:{closed}")
    why = DdgsBackend().unreachable(2.0)
    assert why is not None and f"127.0.0.1:{closed}" in why and "refused" in why.lower()
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        monkeypatch.setenv("DDGS_PROXY", f"socks5h://127.0.0.1:{listening.getsockname()[1]}")
        assert DdgsBackend().unreachable(2.0) is None


@pytest.mark.parametrize(
    ("proxy", "hop"),
    [
        (None, ("html.duckduckgo.com", 443)),
        ("", ("html.duckduckgo.com", 443)),
        ("http://proxy.lan:3128", ("proxy.lan", 3128)),
        ("socks5h://127.0.0.1", ("127.0.0.1", 1080)),
        ("https://user:pw@proxy.lan", ("proxy.lan", 443)),
        ("proxy.lan:8080", ("proxy.lan", 8080)),
        ("tb", ("127.0.0.1", 9150)),
    ],
)
def test_first_hop(proxy: str | None, hop: tuple[str, int]) -> None:
    assert first_hop(proxy) == hop
