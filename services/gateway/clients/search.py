"""Asking the search service over NATS; a failed search becomes a notice, never a lost answer."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.client import Client

from messages import ErrorCode, SearchQuery, SearchResult, SearchResults, SwitchboardError, subjects
from services.runtime.call import SEARCH, call

NO_SEARCH = SEARCH.absent
# a failed search in a reader's words (the search service's own message names hosts and system errors: it is
# logged there, for the operator)
_NOTICE = {
    ErrorCode.OFFLINE: "Web search is unreachable from the server (offline), so this answer is not grounded.",
    ErrorCode.RATE_LIMITED: "Web search is being rate-limited just now, so this answer is not grounded.",
    ErrorCode.TIMEOUT: "Web search did not answer in time, so this answer is not grounded.",
}


@dataclass(frozen=True)
class Grounding:
    """Results to ground an answer in, or why there are none."""

    results: list[SearchResult]
    notice: str | None = None


class SearchClient:
    def __init__(self, nc: Client, timeout_s: float) -> None:
        self._nc = nc
        self._timeout_s = timeout_s

    async def search(self, query: str, max_results: int | None = None) -> SearchResults:
        """Raw results; raises SwitchboardError with the search service's typed error."""
        query_message = SearchQuery(query=query, max_results=max_results)
        return await call(
            self._nc, subjects.SEARCH_QUERY, query_message, SearchResults, timeout_s=self._timeout_s, peer=SEARCH
        )

    async def ground(self, query: str) -> Grounding:
        """Search for a prompt; on any failure return no results and a notice saying why."""
        try:
            found = await self.search(query[:500])
        except SwitchboardError as exc:
            return Grounding([], _NOTICE.get(exc.code) or f"Web search failed, so this answer is not grounded: {exc}")
        if not found.results:
            return Grounding([], "Web search found nothing for this question, so this answer is not grounded.")
        return Grounding(found.results)
