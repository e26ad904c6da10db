"""The gateway's Prometheus figures, and `GET /metrics`: every instance's figures gathered over NATS.

Names follow Prometheus's conventions (`switchboard_<service>_..._total`, `_seconds`); outcomes are `ok`
or the lowercase error code (`bad_request`, `busy`, ...), `cancelled` when the client left first.

Every request that reaches the gateway is counted once, under its outcome, on every transport:
- a GraphQL operation, over HTTP or a websocket, by `OperationMetrics` as it ends: refused before it ran
  (a document or argument error), ended with an error, left by its client (`cancelled`: an HTTP client
  gone, a websocket `complete` or close), or `ok`; per root field;
- a GraphQL request refused before any operation ran (no key, a body that is not JSON, too large) by
  `request_counting` from its HTTP status, as operation `unknown`; a websocket `subscribe` refused by the
  gateway's own checks by `count_refused_subscribe`;
- an OpenAI request by `request_counting`, by endpoint, from its HTTP status (an error in the middle of
  a stream, after the 200, counts as `ok`; a client that leaves mid-stream as `cancelled`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar

from aiohttp import web
from aiohttp.typedefs import Middleware
from graphql import FieldNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, get_operation_ast
from nats.aio.client import Client
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.base import BaseSchema

from services.runtime.metrics import gather

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# seconds from a request to its first token, as its client waits for it (queueing on busy workers included)
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class GatewayMetrics:
    """What this gateway counts; `registry` is the instance's (answered on `metrics.scrape`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "switchboard_gateway_requests",
            "Requests by API (graphql, openai), operation (root field or endpoint) and outcome",
            ["api", "operation", "outcome"],
            registry=self.registry,
        )
        self.time_to_first_token = Histogram(
            "switchboard_gateway_time_to_first_token_seconds",
            "From asking for a generation to its first token reaching the gateway",
            buckets=FIRST_TOKEN_BUCKETS,
            registry=self.registry,
        )
        self.constrained = Counter(
            "switchboard_gateway_constrained_requests",
            "Generations taken with a constraint or tools, by kind (json, json_schema, regex, choice, tools)",
            ["kind"],
            registry=self.registry,
        )
        self.streams_open = Gauge(
            "switchboard_gateway_streams_open", "Generations being relayed to clients now", registry=self.registry
        )

    def count(self, api: str, operation: str, outcome: str) -> None:
        self.requests.labels(api, operation, outcome).inc()


# set by `request_counting` for each GraphQL HTTP request: whether an operation counted it already
_counted: ContextVar[list[bool] | None] = ContextVar("switchboard_counted", default=None)


def _mark_counted() -> None:
    flag = _counted.get()
    if flag is not None:
        flag[0] = True


def outcome_of(errors: list[GraphQLError] | None) -> str:
    """`ok`, else the first error's code in lowercase (`bad_request` for one without a code)."""
    if not errors:
        return "ok"
    code = (errors[0].extensions or {}).get("code", "BAD_REQUEST")
    return str(code).lower()


class OperationMetrics(SchemaExtension):
    """Counts each GraphQL operation (query, mutation or subscription; over HTTP or a websocket) once it
    ends, by root field and outcome: the first error's code (strawberry keeps every result's errors in
    `pre_execution_errors`, a subscription's too), `cancelled` when its client left first, the code of a
    mutation's `ok: false` (the context's `refused`), else `ok`."""

    def on_operation(self) -> Iterator[None]:
        ended: str | None = None  # how it ended when not with a result
        try:
            yield
        except (GeneratorExit, asyncio.CancelledError):
            ended = "cancelled"
            raise
        except MissingQueryError:  # `{}`, `{"query": null}`: strawberry answers 400
            ended = "bad_request"
            raise
        except Exception:
            ended = "internal"
            raise
        finally:
            self._count(ended)

    def _count(self, ended: str | None) -> None:
        ec = self.execution_context
        metrics = getattr(ec.context, "metrics", None)
        if not isinstance(metrics, GatewayMetrics):
            return
        result = ec.result
        outcome = outcome_of(ec.pre_execution_errors or (result.errors if result is not None else None))
        if ended is not None and outcome == "ok":
            outcome = ended
        refused = getattr(ec.context, "refused", {})
        for field in _root_fields(ec.schema, ec.graphql_document, ec.operation_name):
            metrics.count("graphql", field, refused.get(field, outcome))
        _mark_counted()


def count_refused(metrics: GatewayMetrics | None, schema: BaseSchema, document: object, outcome: str) -> None:
    """Count a GraphQL operation the gateway refused before strawberry ran it (a subscription sent over
    HTTP, a websocket `subscribe` over the limits), by its root fields when `document` parses."""
    if metrics is None:
        return
    for field in _root_fields(schema, document, None) if document is not None else ["unknown"]:
        metrics.count("graphql", field, outcome)
    _mark_counted()


_META_FIELDS = frozenset({"__typename", "__schema", "__type"})


def _root_fields(schema: BaseSchema, document: object, operation_name: str | None) -> list[str]:
    """The operation's root fields; one the schema lacks is "unknown", so a caller cannot add series at will."""
    try:
        operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)  # type: ignore[arg-type]
    except Exception:
        operation = None
    graphql_schema: GraphQLSchema = schema._schema  # type: ignore[attr-defined]  # strawberry.Schema's graphql-core one
    root = None if operation is None else graphql_schema.get_root_type(operation.operation)
    if operation is None or root is None:
        return ["unknown"]
    names = [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    return [name if name in root.fields or name in _META_FIELDS else "unknown" for name in names] or ["unknown"]


def metrics_route(nc: Client, wait_s: float) -> web.RouteDef:
    """`GET /metrics`: every instance's figures that answer within `wait_s` seconds, this gateway's too."""

    async def handler(request: web.Request) -> web.Response:
        body = await gather(nc, wait_s)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return web.get("/metrics", handler)


# an OpenAI endpoint's HTTP status -> the outcome label (the error codes the status stands for)
_OUTCOME_OF_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "bad_request",
    409: "conflict",
    413: "bad_request",
    429: "busy",
    503: "unavailable",
    504: "timeout",
}


def request_counting(metrics: GatewayMetrics) -> Middleware:
    """Counts each OpenAI request (under /v1) by endpoint (`chat/completions`, `completions`, `models`) and
    outcome, read from its HTTP status; and each GraphQL HTTP request that no operation counted (refused
    before GraphQL ran) as operation `unknown`. Websocket upgrades are not requests: their operations count."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" or _is_upgrade(request):  # CORS preflights, websockets: not requests
            return await handler(request)
        graphql = request.path == "/graphql"
        if not graphql and request.path != "/v1" and not request.path.startswith("/v1/"):
            return await handler(request)
        flag = [False]
        token = _counted.set(flag)
        outcome = "internal"
        try:
            response = await handler(request)
            outcome = "ok" if response.status < 400 else _OUTCOME_OF_STATUS.get(response.status, "internal")
            return response
        except web.HTTPException as exc:
            outcome = _OUTCOME_OF_STATUS.get(exc.status, "internal")
            raise
        except (asyncio.CancelledError, ConnectionResetError):  # the client left (mid-stream: a failed write)
            outcome = "cancelled"
            raise
        finally:
            _counted.reset(token)
            if graphql:
                if not flag[0]:
                    metrics.count("graphql", "unknown", outcome)
            else:
                metrics.count("openai", _endpoint(request), outcome)

    return middleware


def _endpoint(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None:
        return "unknown"
    return resource.canonical.removeprefix("/v1/").removesuffix("/{model}") or "unknown"


def _is_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"
