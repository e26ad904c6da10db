"""Messages of the search service: a web query, its results, or a typed error."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from .errors import ErrorMessage
from .fields import RequestId

MAX_QUERY_CHARS = 500
MAX_RESULTS_LIMIT = 10
DEFAULT_MAX_RESULTS = 4


class SearchQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Search the web for `query`; at most `max_results` results come back.

    Leaving `max_results` out (or null) means the service's default, `SEARCH_MAX_RESULTS` (4 unless set).
    """

    query: Annotated[str, Meta(min_length=1, max_length=MAX_QUERY_CHARS)]
    max_results: Annotated[int, Meta(ge=1, le=MAX_RESULTS_LIMIT)] | None = None
    request_id: RequestId | None = None  # optional, for logs


class SearchResult(msgspec.Struct, frozen=True):
    """One web page found: what it is called, where it is, and a short excerpt."""

    title: str
    url: str
    snippet: str = ""


class SearchResults(msgspec.Struct, frozen=True, tag="results", tag_field="type"):
    """The answer to a `SearchQuery`; `results` may be empty. `cached` is true when no search was made."""

    query: str
    results: list[SearchResult]
    cached: bool = False


SearchReply = SearchResults | ErrorMessage
