"""Search test helpers: a stand-in backend (fixed results, a delay or error, a record of calls), a readiness probe."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from nats.aio.client import Client
from nats.errors import NoRespondersError

from messages import SearchResult, subjects


@dataclass(frozen=True)
class Call:
    query: str
    max_results: int
    at: float  # time.monotonic() when the call began


@dataclass
class FakeSearchBackend:
    """Implements `services.search.SearchBackend`. Runs in the service's worker thread, like the real one."""

    results: list[SearchResult] = field(default_factory=list)
    delay_s: float = 0.0
    error: Exception | None = None
    down: str | None = None  # what `unreachable` answers (None: the web is reachable)
    probe_delay_s: float = 0.0  # how long `unreachable` takes (a resolver that does not answer)
    calls: list[Call] = field(default_factory=list)
    probes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def unreachable(self, timeout_s: float) -> str | None:
        with self._lock:
            self.probes += 1
        if self.probe_delay_s:
            time.sleep(self.probe_delay_s)
        return self.down

    def search(self, query: str, max_results: int) -> list[SearchResult]:
        with self._lock:
            self.calls.append(Call(query, max_results, time.monotonic()))
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.results[:max_results]

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)


def sample_results(n: int = 3) -> list[SearchResult]:
    return [
        SearchResult(title=f"Result {i}", url=f"https://example.org/{i}", snippet=f"snippet number {i}")
        for i in range(1, n + 1)
    ]


async def until_answering(nc: Client, timeout: float = 5.0) -> None:
    """Wait until `nc` reaches the search endpoint.

    When workers start and stop in quick succession (one per test) on a JetStream-enabled server, a request
    can meet "no responders" for a millisecond or so after the new worker has subscribed and flushed. An
    empty object is answered with bad_request and never reaches the backend, so it is a harmless probe.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            await nc.request(subjects.SEARCH_QUERY, b"{}", timeout=timeout)
            return
        except NoRespondersError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.01)
