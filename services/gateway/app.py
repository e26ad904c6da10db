"""The aiohttp application: GraphQL over HTTP and graphql-transport-ws at /graphql, with CORS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web
from aiohttp.typedefs import Middleware
from nats.aio.client import Client
from strawberry.aiohttp.views import GraphQLView
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from .adapters_client import AdaptersClient
from .config import GatewayConfig
from .inference_client import InferenceClient
from .schema import Context, schema
from .search_client import SearchClient
from .training_client import TrainingClient

_encode_json = msgspec.json.Encoder().encode
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SwitchboardView(GraphQLView[Context, None]):
    def __init__(self, nc: Client, config: GatewayConfig) -> None:
        super().__init__(
            schema=schema,
            graphql_ide=None,  # strawberry's GraphiQL loads from a CDN; the web app brings an offline Explorer
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=config.cors_origins,
        )
        self._context = Context(
            nc=nc,
            inference=InferenceClient(nc, config),
            search=SearchClient(nc, config.search_timeout_s),
            adapters=AdaptersClient(nc, config.request_timeout_s),
            training=TrainingClient(nc, config.request_timeout_s),
        )

    def encode_json(self, data: object) -> str:
        """Every response and websocket frame, once, with msgspec (several times faster than `json.dumps`)."""
        return _encode_json(data).decode()

    async def get_context(self, request: web.Request, response: web.Response | web.WebSocketResponse) -> Context:
        return self._context


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
        if permitted and origin and not response.prepared:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    return middleware


# strawberry's and aiohttp's plain-text refusals of a request -> what to tell the caller
_TRANSPORT_ERRORS = {
    "Unable to parse request body as JSON": "the request body is not valid JSON",
    "No GraphQL query found in the request": "the request has no GraphQL `query`",
    "Unsupported content type": "send the request as JSON, with `Content-Type: application/json`",
    "Batching is not enabled": "send one operation per request (batching is off)",
}
MAX_BODY_BYTES = 1024**2  # aiohttp's default client_max_size, kept


def _graphql_error(status: int, text: str) -> web.Response:
    if status == 413:
        message = f"the request body is larger than {MAX_BODY_BYTES} bytes (1 MiB)"
    else:
        message = _TRANSPORT_ERRORS.get(text.strip(), text.strip() or f"HTTP {status}")
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    return web.json_response(body, status=status)


@web.middleware
async def json_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Requests refused before GraphQL runs (bad JSON, wrong content type, too large) get a GraphQL error
    in JSON, like every other error, instead of a line of plain text."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _graphql_error(exc.status, exc.text or exc.reason)
    if response.status >= 400 and isinstance(response, web.Response) and response.content_type == "text/plain":
        return _graphql_error(response.status, response.text or "")
    return response


async def _index(request: web.Request) -> web.Response:
    return web.json_response(
        {"service": "switchboard-gateway", "graphql": "/graphql", "explorer": "http://localhost:3000/explorer"}
    )


def build_app(nc: Client, config: GatewayConfig) -> web.Application:
    app = web.Application(
        middlewares=[cors_middleware(config.cors_origins), json_errors_middleware], client_max_size=MAX_BODY_BYTES
    )
    view = SwitchboardView(nc, config)
    app.router.add_route("*", "/graphql", view)
    app.router.add_get("/", _index)
    return app
