"""The aiohttp application: GraphQL over HTTP and graphql-transport-ws at /graphql, the OpenAI API under /v1,
/metrics; CORS, API keys and errors in JSON for every route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import msgspec
from aiohttp import web
from aiohttp.typedefs import Middleware
from nats.aio.client import Client
from strawberry.aiohttp.views import GraphQLView
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from ..clients import AdaptersClient, Clients, DatasetsClient, InferenceClient, SearchClient, TrainingClient
from ..config import GatewayConfig
from ..generation import Generations
from ..graphql.context import Context
from ..graphql.schema import schema
from ..graphql.websocket import HARD_LIMIT_BYTES, NESTED, OVERSIZE, LimitedTransportWSHandler
from ..openai.errors import error_response
from ..openai.routes import OpenAIRoutes
from .cors import cors_middleware, cors_on_prepare
from .door import NO_KEY, WRONG_KEY, access_middleware, caller_of_request
from .json_body import nested_too_deeply
from .keys import Role, bearer_key, key_id
from .metrics import GatewayMetrics, metrics_route, request_counting
from .uploads import upload_guard

_encode_json = msgspec.json.Encoder().encode
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SwitchboardView(GraphQLView[Context, None]):
    graphql_transport_ws_handler_class = LimitedTransportWSHandler

    def __init__(self, nc: Client, config: GatewayConfig, metrics: GatewayMetrics, inference: InferenceClient) -> None:
        super().__init__(
            schema=schema,
            graphql_ide=None,  # strawberry's GraphiQL loads from a CDN; the web app brings an offline Explorer
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=config.cors_origins,
            max_subscriptions_per_connection=config.max_subscriptions,
            multipart_uploads_enabled=True,  # uploadDataset; `upload_guard` asks for a CSRF-safe header
        )
        self.max_message_bytes = config.max_message_bytes
        self._keys = config.keys
        clients = Clients(
            nc=nc,
            inference=inference,
            search=SearchClient(nc, config.search_timeout_s),
            adapters=AdaptersClient(nc, config.request_timeout_s),
            training=TrainingClient(nc, config.request_timeout_s),
            datasets=DatasetsClient(nc, config.request_timeout_s, config.dataset_timeout_s, config.dataset_max_bytes),
        )
        self._context = Context(
            clients=clients,
            generations=Generations(clients.inference, clients.search, config.limits, metrics),
            role=Role.ADMIN,
            keys_required=config.keys.enabled,
            metrics=metrics,
        )

    @property
    def context(self) -> Context:
        """The clients and generation layer every request shares (the OpenAI routes use them too)."""
        return self._context

    def decode_json(self, data: str | bytes) -> object:
        """`json.loads`; a websocket message over the size limit, or nested deeper than `json.loads` goes, is
        marked for the handler to refuse."""
        try:
            decoded = super().decode_json(data)
        except RecursionError:
            return {NESTED: True}
        if len(data) > self.max_message_bytes and isinstance(decoded, dict):
            decoded[OVERSIZE] = len(data)
        return decoded

    def parse_json(self, data: str | bytes) -> object:
        """An HTTP request's JSON (the body, or a multipart request's `operations` and `map`): refused with a 400
        saying so when it is nested deeper than `json.loads` goes."""
        parsed = super().parse_json(data)
        if isinstance(parsed, dict) and NESTED in parsed:
            raise web.HTTPBadRequest(text=nested_too_deeply())
        return parsed

    async def create_websocket_response(self, request: web.Request, subprotocol: str | None) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=[subprotocol] if subprotocol else [], max_msg_size=HARD_LIMIT_BYTES)
        await ws.prepare(request)
        return ws

    async def on_ws_connect(self, context: Context) -> None:
        """Without keys, or with a valid one on the upgrade request, anyone; else the key in `connection_init`.

        Raises:
            ConnectionRejectionError: no valid key; strawberry closes the socket with 4403.
        """
        if not self._keys.enabled:
            return
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        given = params.get("Authorization", params.get("authorization"))
        if given is None and context.role is not None:
            return  # the upgrade request's header had a valid key
        key = bearer_key(given)
        role = None if key is None else self._keys.role_of(key)
        if key is None or role is None:  # a key in connection_init decides, even beside a valid header
            raise ConnectionRejectionError({"message": NO_KEY if key is None else WRONG_KEY})
        context.role, context.key_id = role, key_id(key)

    def encode_json(self, data: object) -> str:
        """Every response and websocket frame, once, with msgspec (several times faster than `json.dumps`)."""
        return _encode_json(data).decode()

    async def get_context(self, request: web.Request, response: web.Response | web.WebSocketResponse) -> Context:
        # its own (strawberry sets `connection_params` on a websocket's), with its own record of refusals
        websocket = isinstance(response, web.WebSocketResponse)
        if not self._keys.enabled:
            return replace(self._context, refused={}, websocket=websocket)
        caller = caller_of_request(self._keys, request)
        role, key = caller if caller is not None else (None, "")
        return replace(self._context, role=role, key_id=key, refused={}, websocket=websocket)


# strawberry's and aiohttp's plain-text refusals of a request -> what to tell the caller
_TRANSPORT_ERRORS = {
    "Unable to parse request body as JSON": "the request body is not valid JSON",
    "No GraphQL query found in the request": "the request has no GraphQL `query`",
    "Unsupported content type": "send the request as JSON, with `Content-Type: application/json`",
    "Batching is not enabled": "send one operation per request (batching is off)",
}


def _graphql_error(status: int, text: str, limit: int, path: str = "/graphql") -> web.Response:
    if status == 413:
        message = f"the request body is larger than {limit} bytes (GATEWAY_MAX_MESSAGE_BYTES)"
    else:
        message = _TRANSPORT_ERRORS.get(text.strip(), text.strip() or f"HTTP {status}")
    if path.startswith("/v1/"):  # OpenAI's error shape, which its SDKs read
        code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(status, "invalid_request")
        return error_response(status, message, "invalid_request_error", None, code)
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    return web.json_response(body, status=status)


def json_errors_middleware(limit: int) -> Middleware:
    """Requests refused before GraphQL runs (bad JSON, wrong content type, over `limit` bytes) get a GraphQL
    error in JSON, like every other error, instead of a line of plain text."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return _graphql_error(exc.status, exc.text or exc.reason, limit, request.path)
        if response.status >= 400 and isinstance(response, web.Response) and response.content_type == "text/plain":
            return _graphql_error(response.status, response.text or "", limit, request.path)
        return response

    return middleware


async def _index(request: web.Request) -> web.Response:
    return web.json_response(
        {"service": "switchboard-gateway", "graphql": "/graphql", "explorer": "http://localhost:3000/explorer"}
    )


def build_app(
    nc: Client,
    config: GatewayConfig,
    metrics: GatewayMetrics | None = None,
    inference: InferenceClient | None = None,
) -> web.Application:
    """The gateway's routes: /graphql, the OpenAI API under /v1, /metrics (every instance's figures).

    `inference` talks to the workers (default: one that answers no requester pings)."""
    metrics = metrics or GatewayMetrics()
    middlewares = [
        request_counting(metrics),  # outermost: counts what the caller got, refusals at the door included
        cors_middleware(config.cors_origins),
        json_errors_middleware(config.max_message_bytes),
        upload_guard(config.dataset_max_bytes),
    ]
    if config.keys.enabled:
        # inside CORS (a browser can read the 401) and the JSON errors (a body too large to check is a 413 in JSON)
        open_paths = frozenset({"/metrics"}) if config.metrics_open else frozenset()
        middlewares.append(access_middleware(config.keys, open_paths))
    app = web.Application(middlewares=middlewares, client_max_size=config.max_message_bytes)
    app.on_response_prepare.append(cors_on_prepare(config.cors_origins))
    view = SwitchboardView(nc, config, metrics, inference or InferenceClient(nc, config, metrics))
    app.router.add_route("*", "/graphql", view)
    OpenAIRoutes(view.context.clients, view.context.generations).register(app)
    app.router.add_routes([metrics_route(nc, config.metrics_wait_s)])
    app.router.add_get("/", _index)
    return app
