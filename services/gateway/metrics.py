"""The gateway's Prometheus figures, and `GET /metrics`: every instance's figures gathered over NATS.

Names follow Prometheus's conventions (`switchboard_<service>_..._total`, `_seconds`); outcomes are `ok`
or the lowercase error code (`bad_request`, `busy`, ...), `cancelled` when the client left first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from aiohttp import web
from aiohttp.typedefs import Middleware
from graphql import FieldNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, get_operation_ast
from nats.aio.client import Client
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from strawberry.extensions import SchemaExtension
from strawberry.schema.base import BaseSchema
from strawberry.types.graphql import OperationType

from messages import SwitchboardError
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
        self.streams_open = Gauge(
            "switchboard_gateway_streams_open", "Generations being relayed to clients now", registry=self.registry
        )

    def count(self, api: str, operation: str, outcome: str) -> None:
        self.requests.labels(api, operation, outcome).inc()

    @contextmanager
    def counting(self, api: str, operation: str) -> Iterator[None]:
        """Count the block as one request: `ok`, the SwitchboardError's code, or `cancelled` (the client left)."""
        outcome = "ok"
        try:
            yield
        except SwitchboardError as exc:
            outcome = exc.code.value
            raise
        except (GeneratorExit, asyncio.CancelledError):
            outcome = "cancelled"
            raise
        except Exception:
            outcome = "internal"
            raise
        finally:
            self.count(api, operation, outcome)


def outcome_of(errors: list[GraphQLError] | None) -> str:
    """`ok`, else the first error's code in lowercase (`bad_request` for one without a code)."""
    if not errors:
        return "ok"
    code = (errors[0].extensions or {}).get("code", "BAD_REQUEST")
    return str(code).lower()


class OperationMetrics(SchemaExtension):
    """Counts each GraphQL query and mutation by root field and outcome (subscriptions count themselves, as
    their outcome comes at their end)."""

    def on_operation(self) -> Iterator[None]:
        yield
        ec = self.execution_context
        metrics = getattr(ec.context, "metrics", None)
        if not isinstance(metrics, GatewayMetrics) or ec.operation_type is OperationType.SUBSCRIPTION:
            return
        result = ec.result
        outcome = outcome_of(ec.pre_execution_errors or (result.errors if result is not None else None))
        refused = getattr(ec.context, "refused", {})
        for field in _root_fields(ec.schema, ec.graphql_document, ec.operation_name):
            metrics.count("graphql", field, refused.get(field, outcome))


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
    413: "bad_request",
    429: "busy",
    503: "unavailable",
    504: "timeout",
}


def openai_counting(metrics: GatewayMetrics) -> Middleware:
    """Counts each request under /v1 by endpoint (`chat/completions`, `completions`, `models`) and outcome,
    read from its HTTP status (an error in the middle of a stream, after the 200, counts as `ok`)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        operation = canonical.removeprefix("/v1/").removesuffix("/{model}") or "unknown"
        outcome = "internal"
        try:
            response = await handler(request)
            outcome = "ok" if response.status < 400 else _OUTCOME_OF_STATUS.get(response.status, "internal")
            return response
        except web.HTTPException as exc:
            outcome = _OUTCOME_OF_STATUS.get(exc.status, "internal")
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            metrics.count("openai", operation if resource is not None else "unknown", outcome)

    return middleware
