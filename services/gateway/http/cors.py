"""CORS for every route: a preflight from an allowed origin is answered 204 (403 for another), and every response
to an allowed origin carries `Access-Control-Allow-Origin`, set as it is prepared, so streamed answers and errors
(a 401 at the door, a 413) carry it too.

Not aiohttp-cors: it answers a preflight with 200 where this gateway has always answered 204, takes a route of
method `*` (the GraphQL view) only as a class-based view, and adds nothing to a response of a route it was not
given. The rules here are the few a browser needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def cors_middleware(origins: tuple[str, ...]) -> Middleware:
    allowed = set(origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin", "").rstrip("/")
        permitted = "*" in allowed or origin in allowed
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not permitted:
                return web.Response(status=403, text="origin not allowed")
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "content-type"
            )
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await handler(request)
        return response

    return middleware


def cors_on_prepare(origins: tuple[str, ...]) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """Every response to an allowed origin gets its CORS headers just before it is sent (aiohttp's
    `on_response_prepare`): streamed ones too (an OpenAI stream or a long answer is prepared inside its
    handler, past where a middleware could still add a header), errors too."""
    allowed = set(origins)

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin", "").rstrip("/")
        if origin and ("*" in allowed or origin in allowed):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"

    return on_prepare
