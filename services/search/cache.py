"""A small in-memory cache of search results: entries expire after a TTL, the least recently used go first."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from messages import SearchResult

CacheKey = tuple[str, int]


def cache_key(query: str, max_results: int) -> CacheKey:
    """Queries that differ only in case or spacing share an entry."""
    return " ".join(query.casefold().split()), max_results


class ResultCache:
    def __init__(self, ttl_s: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[CacheKey, tuple[float, list[SearchResult]]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0 and self.size > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> list[SearchResult] | None:
        """The fresh results stored under `key`, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, results = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return list(results)

    def put(self, key: CacheKey, results: list[SearchResult]) -> None:
        if not self.enabled:
            return
        self._entries[key] = (self._clock() + self.ttl_s, list(results))
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
