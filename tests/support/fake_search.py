"""A stand-in search backend for tests: fixed results, a delay or an error, a record of calls."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from messages import SearchResult


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
