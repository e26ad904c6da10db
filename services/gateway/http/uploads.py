"""The door for multipart requests (uploadDataset): a CSRF-safe header and a size limit, before a byte is read.

A browser sends a multipart form to any site without asking first (a "simple" request), so a page
elsewhere could make a visitor's browser upload to a gateway without keys. As Apollo Server's CSRF
prevention does, a multipart request must carry a header that no simple request can: `Authorization` or
`GraphQL-Require-Preflight` (any value), so the browser asks (CORS preflight) and the gateway's origin
list decides. Its `Content-Length` must be given and at most DATASET_MAX_MB plus `FORM_OVERHEAD_BYTES`;
strawberry reads a multipart body whole, so a larger one is refused before it is read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PREFLIGHT_HEADER = "GraphQL-Require-Preflight"
FORM_OVERHEAD_BYTES = 64 * 1024  # the `operations` and `map` fields and the parts' headers


def _refused(status: int, message: str) -> web.Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    return web.json_response(body, status=status)


def upload_guard(max_file_bytes: int) -> Middleware:
    limit = max_file_bytes + FORM_OVERHEAD_BYTES

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or not request.content_type.startswith("multipart/"):
            return await handler(request)
        if PREFLIGHT_HEADER not in request.headers and "Authorization" not in request.headers:
            return _refused(
                400, f"a multipart request (an upload) must carry the header `{PREFLIGHT_HEADER}: 1` (CSRF guard)"
            )
        if request.content_length is None:
            return _refused(411, "an upload must give its size (the Content-Length header)")
        if request.content_length > limit:
            return _refused(
                413,
                f"the upload is {request.content_length / 2**20:.1f} MB, over the {max_file_bytes / 2**20:.3g} MB "
                "a dataset may have (DATASET_MAX_MB)",
            )
        return await handler(request)

    return middleware
