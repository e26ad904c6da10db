"""Search settings from the environment (on top of the runtime's shared ones)."""

from __future__ import annotations

from dataclasses import dataclass

from messages import ErrorCode, SwitchboardError
from messages.search import DEFAULT_MAX_RESULTS, MAX_RESULTS_LIMIT
from services.runtime import env_float, env_int, env_str

SAFESEARCH_LEVELS = ("on", "moderate", "off")


@dataclass(frozen=True)
class SearchConfig:
    backend: str = "ddgs"  # which SearchBackend answers queries
    region: str = "wt-wt"  # ddgs region, e.g. wt-wt (no region), us-en, de-de
    safesearch: str = "moderate"  # on, moderate or off
    max_results: int = DEFAULT_MAX_RESULTS  # for queries that do not say how many
    timeout_s: float = 8.0  # a query's whole budget: waiting for its turn plus the search itself
    cache_ttl_s: float = 300.0  # how long a result stays fresh; 0 turns the cache off
    cache_size: int = 256  # how many queries the cache keeps; 0 turns the cache off
    min_interval_s: float = 1.0  # at most one backend call per interval; 0 means no limit
    probe_timeout_s: float = 2.0  # how long the check that the web is reachable at all may take; 0 skips it

    @classmethod
    def from_env(cls) -> SearchConfig:
        config = cls(
            backend=env_str("SEARCH_BACKEND", cls.backend).lower(),
            region=env_str("SEARCH_REGION", cls.region),
            safesearch=env_str("SEARCH_SAFESEARCH", cls.safesearch).lower(),
            max_results=env_int("SEARCH_MAX_RESULTS", cls.max_results, minimum=1),
            timeout_s=env_float("SEARCH_TIMEOUT_S", cls.timeout_s, minimum=0.1),
            cache_ttl_s=env_float("SEARCH_CACHE_TTL_S", cls.cache_ttl_s),
            cache_size=env_int("SEARCH_CACHE_SIZE", cls.cache_size),
            min_interval_s=env_float("SEARCH_MIN_INTERVAL_S", cls.min_interval_s),
            probe_timeout_s=env_float("SEARCH_PROBE_TIMEOUT_S", cls.probe_timeout_s, minimum=0.0),
        )
        if config.max_results > MAX_RESULTS_LIMIT:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST, f"SEARCH_MAX_RESULTS={config.max_results} must be at most {MAX_RESULTS_LIMIT}"
            )
        if config.safesearch not in SAFESEARCH_LEVELS:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"SEARCH_SAFESEARCH={config.safesearch!r} must be one of {', '.join(SAFESEARCH_LEVELS)}",
            )
        return config
