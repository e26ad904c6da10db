"""The search actor: web search (ddgs) in a thread, with a timeout, a small cache and a rate limit."""

from .backend import BackendError, BackendErrorKind, DdgsBackend, SearchBackend, make_backend
from .cache import ResultCache, cache_key
from .config import SearchConfig
from .limiter import MinIntervalLimiter, RateLimited
from .service import SearchActor

__all__ = [
    "BackendError",
    "BackendErrorKind",
    "DdgsBackend",
    "MinIntervalLimiter",
    "RateLimited",
    "ResultCache",
    "SearchActor",
    "SearchBackend",
    "SearchConfig",
    "cache_key",
    "make_backend",
]
