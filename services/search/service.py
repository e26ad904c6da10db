"""The search actor: `svc.search.query` answers a web query with results or a typed error."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import ClassVar

from nats.micro.request import Request
from prometheus_client import Counter

from messages import (
    ErrorCode,
    ErrorMessage,
    SearchQuery,
    SearchResult,
    SearchResults,
    SwitchboardError,
    decode,
    encode,
    subjects,
)
from services.runtime import Actor, ActorContext, Settings, get_logger, reply_error

from .backend import OFFLINE_TEXT, BackendError, SearchBackend, make_backend
from .cache import CacheKey, ResultCache, cache_key
from .config import SearchConfig
from .limiter import MinIntervalLimiter, RateLimited
from .reachability import Reachability

_BACKEND_CODES = {
    "offline": ErrorCode.OFFLINE,
    "rate_limited": ErrorCode.RATE_LIMITED,
    "failed": ErrorCode.UNAVAILABLE,
}


class SearchActor(Actor):
    name: ClassVar[str] = subjects.SEARCH_SERVICE
    description: ClassVar[str] = "Searches the web (ddgs) with a timeout, a small cache and a rate limit"

    def __init__(
        self, settings: Settings, config: SearchConfig | None = None, backend: SearchBackend | None = None
    ) -> None:
        self.settings = settings
        self.config = config or SearchConfig.from_env()
        self.backend = backend if backend is not None else make_backend(self.config)
        self.cache = ResultCache(self.config.cache_ttl_s, self.config.cache_size)
        self.limiter = MinIntervalLimiter(self.config.min_interval_s)
        self.reachability = Reachability(self.backend.unreachable, self.config.probe_timeout_s)
        self._requests: set[asyncio.Task[None]] = set()  # queries being answered
        self._calls: set[asyncio.Task[list[SearchResult]]] = set()  # backend calls, some outliving their query
        self._log: logging.Logger = get_logger(self.name)

    def metadata(self) -> dict[str, str]:
        return {"backend": self.config.backend, "timeout_s": f"{self.config.timeout_s:g}"}

    async def start(self, ctx: ActorContext) -> None:
        self._searches = Counter(
            "switchboard_search_requests",
            "Web searches by outcome: ok, cached (answered from the cache) or the error code",
            ["outcome"],
            registry=ctx.metrics.registry,
        )
        self._log = ctx.log
        await ctx.service.add_endpoint(
            name="query",
            subject=subjects.SEARCH_QUERY,
            queue_group=subjects.SEARCH_QUEUE,
            handler=self._on_query,
        )

    async def stop(self) -> None:
        """Answer the queries in flight (each within its timeout); forget calls that outlived theirs."""
        if self._requests:
            await asyncio.wait(self._requests, timeout=self.config.timeout_s + 1)
        for call in list(self._calls):
            call.cancel()  # the thread finishes on its own; nothing waits for it

    # -- endpoint ----------------------------------------------------------------------------

    async def _on_query(self, req: Request) -> None:
        # micro hands one subscription's requests over one at a time: answer each in its own task, so a
        # slow search does not hold up cache hits, bad input or the other queries waiting their turn
        task = asyncio.create_task(self._handle(req))
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def _handle(self, req: Request) -> None:
        try:
            reply = await self.answer(req.data)
        except SwitchboardError as exc:
            self._searches.labels(exc.code.value).inc()
            await reply_error(req, exc.to_message())
            return
        except Exception as exc:  # never let a bad request take the service down
            self._searches.labels(ErrorCode.INTERNAL.value).inc()
            self._log.exception("search failed")
            await reply_error(req, ErrorMessage(ErrorCode.INTERNAL, f"internal error: {exc}"))
            return
        self._searches.labels("cached" if reply.cached else "ok").inc()
        with contextlib.suppress(Exception):
            await req.respond(encode(reply))

    async def answer(self, data: bytes) -> SearchResults:
        """Decode one query and search (or read the cache). Raises `SwitchboardError` for every failure."""
        query = decode(data, SearchQuery)
        text = " ".join(query.query.split())
        if not text:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "must not be empty", "query")
        max_results = query.max_results or self.config.max_results
        key = cache_key(text, max_results)
        cached = self.cache.get(key)
        if cached is not None:
            self._log.info("search cached", extra={"request_id": query.request_id, "results": len(cached)})
            return SearchResults(query=text, results=cached, cached=True)
        results = await self._search(text, max_results, key)
        self._log.info("search done", extra={"request_id": query.request_id, "results": len(results)})
        return SearchResults(query=text, results=results, cached=False)

    # -- one backend call --------------------------------------------------------------------

    async def _search(self, text: str, max_results: int, key: CacheKey) -> list[SearchResult]:
        if self.config.probe_timeout_s and (why := await self.reachability.why_down()) is not None:
            self._log.warning("search skipped: the web is unreachable", extra={"why": why})
            raise SwitchboardError(ErrorCode.OFFLINE, f"{OFFLINE_TEXT}: {why}")
        budget = self.config.timeout_s
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await self.limiter.acquire(max_wait_s=budget)
        except RateLimited as exc:
            raise SwitchboardError(
                ErrorCode.RATE_LIMITED,
                f"too many web searches at once; the next one can start in {exc.wait_s:.1f}s, try again then",
            ) from exc
        remaining = max(0.0, budget - (loop.time() - started))

        call = asyncio.ensure_future(asyncio.to_thread(self.backend.search, text, max_results))
        self._calls.add(call)
        call.add_done_callback(lambda done: self._finished(done, key, max_results))
        try:
            results = await asyncio.wait_for(asyncio.shield(call), timeout=remaining)
        except TimeoutError as exc:
            self._log.warning("search timed out", extra={"timeout_s": budget})
            raise SwitchboardError(
                ErrorCode.TIMEOUT, f"web search did not answer within {budget:g}s; try again later"
            ) from exc
        except BackendError as exc:
            self._log.warning("search failed", extra={"kind": exc.kind, "detail": exc.detail or exc.text})
            raise SwitchboardError(_BACKEND_CODES[exc.kind], exc.text) from exc
        except Exception as exc:
            self._log.exception("search backend crashed")
            raise SwitchboardError(ErrorCode.UNAVAILABLE, f"web search failed: {exc}") from exc
        return results[:max_results]

    def _finished(self, call: asyncio.Task[list[SearchResult]], key: CacheKey, max_results: int) -> None:
        """Cache every successful call, also one that finished after its query timed out."""
        self._calls.discard(call)
        if call.cancelled() or call.exception() is not None:
            return
        self.cache.put(key, call.result()[:max_results])
