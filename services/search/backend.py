"""Where results come from: the `SearchBackend` protocol and `DdgsBackend`, which asks the web through ddgs."""

from __future__ import annotations

import logging
import math
import os
import socket
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from ddgs import DDGS
from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

from messages import ErrorCode, SearchResult, SwitchboardError

from .config import SearchConfig

BackendErrorKind = Literal["offline", "rate_limited", "failed"]

OFFLINE_TEXT = "web search is unreachable from this machine (offline)"
SLOW_TEXT = "web search timed out reaching the search providers (offline, or a very slow network)"
RATE_LIMITED_TEXT = "the web search provider is rate limiting this machine; try again in a minute"
FAILED_TEXT = "web search failed"

# how network failures read once ddgs/primp have turned them into text
_NETWORK_MARKERS = (
    "dnserror",
    "dns error",
    "connecterror",
    "connection refused",
    "connection reset",
    "network is unreachable",
    "no route to host",
    "error sending request",
)


class BackendError(Exception):
    """A search that could not be made; `text` is for people, `detail` for logs."""

    def __init__(self, kind: BackendErrorKind, text: str, detail: str = "") -> None:
        super().__init__(text)
        self.kind: BackendErrorKind = kind
        self.text = text
        self.detail = detail


class SearchBackend(Protocol):
    def search(self, query: str, max_results: int) -> list[SearchResult]:
        """Search synchronously (it runs in a thread). Raises `BackendError`; no results is `[]`."""
        ...

    def unreachable(self, timeout_s: float) -> str | None:
        """Why the web cannot be reached from here, in words, or None when it can: a quick check (it runs in a
        thread, given `timeout_s`) made before searching, so that offline a search fails in seconds."""
        ...


class DdgsBackend:
    """Metasearch through the `ddgs` package; one `DDGS` client per call, so calls may run in parallel."""

    def __init__(self, region: str = "wt-wt", safesearch: str = "moderate", timeout_s: float = 8.0) -> None:
        logging.getLogger("ddgs").setLevel(logging.WARNING)  # one line per engine and query; ours says enough
        self.region = region
        self.safesearch = safesearch
        self.timeout_s = timeout_s

    def unreachable(self, timeout_s: float) -> str | None:
        """Connect to the first hop of every search: `DDGS_PROXY` when set (ddgs goes through it), else
        DuckDuckGo (a name lookup, then TCP on 443)."""
        host, port = first_hop(os.environ.get("DDGS_PROXY"))
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return None
        except OSError as exc:
            return f"cannot connect to {host}:{port} ({exc.strerror or exc.__class__.__name__})"

    def search(self, query: str, max_results: int) -> list[SearchResult]:
        try:
            rows = DDGS(timeout=max(1, math.ceil(self.timeout_s))).text(
                query, region=self.region, safesearch=self.safesearch, max_results=max_results
            )
        except RatelimitException as exc:
            raise BackendError("rate_limited", RATE_LIMITED_TEXT, repr(exc)) from exc
        except TimeoutException as exc:
            raise BackendError("offline", SLOW_TEXT, repr(exc)) from exc
        except DDGSException as exc:
            # ddgs re-raises the last engine's error wrapped in a plain DDGSException
            inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
            if isinstance(inner, RatelimitException):
                raise BackendError("rate_limited", RATE_LIMITED_TEXT, repr(exc)) from exc
            if isinstance(inner, TimeoutException):
                raise BackendError("offline", SLOW_TEXT, repr(exc)) from exc
            if _is_network_failure(exc):
                raise BackendError("offline", OFFLINE_TEXT, repr(exc)) from exc
            if "no results found" in str(exc).lower():
                return []
            raise BackendError("failed", f"{FAILED_TEXT}: {_short(exc)}", repr(exc)) from exc
        except OSError as exc:
            raise BackendError("offline", OFFLINE_TEXT, repr(exc)) from exc
        return [result for row in rows[:max_results] if (result := _to_result(row)) is not None]


def first_hop(proxy: str | None) -> tuple[str, int]:
    """The host and port a search connects to first: the proxy's (`http://host:port`, `socks5h://...`; ddgs's
    `tb` alias is Tor's 127.0.0.1:9150), else DuckDuckGo's HTML endpoint."""
    if not proxy:
        return "html.duckduckgo.com", 443
    if proxy == "tb":
        return "127.0.0.1", 9150
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    default = 1080 if parts.scheme.startswith("socks") else 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        port = default
    return parts.hostname or "127.0.0.1", port


def _to_result(row: dict[str, Any]) -> SearchResult | None:
    url = str(row.get("href") or row.get("url") or "").strip()
    if not url:
        return None
    return SearchResult(
        title=str(row.get("title") or url).strip(),
        url=url,
        snippet=str(row.get("body") or "").strip(),
    )


def _is_network_failure(exc: BaseException) -> bool:
    text = repr(exc).lower()
    return any(marker in text for marker in _NETWORK_MARKERS)


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def make_backend(config: SearchConfig) -> SearchBackend:
    """The backend named by `SEARCH_BACKEND`."""
    if config.backend == "ddgs":
        return DdgsBackend(region=config.region, safesearch=config.safesearch, timeout_s=config.timeout_s)
    raise SwitchboardError(ErrorCode.BAD_REQUEST, f"SEARCH_BACKEND={config.backend!r} is unknown (use ddgs)")
