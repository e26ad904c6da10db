"""GraphQL's errors: a SwitchboardError as a GraphQL error (`extensions.code`, `extensions.argument`), and the
schema class that gives every other error a code (BAD_REQUEST for a wrong document, INTERNAL for a bug) and
refuses a subscription sent over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import strawberry
from graphql import GraphQLError, OperationType, get_operation_ast
from strawberry.types import ExecutionContext
from strawberry.types import ExecutionResult as StrawberryResult
from strawberry.types.graphql import OperationType as StrawberryOperationType

from messages import (
    SwitchboardError,
)

from ..error_fields import graphql_argument, graphql_argument_at, graphql_message
from ..http.metrics import count_refused
from .websocket import operation_problem, parse_document

log = logging.getLogger("switchboard.gateway")
P = ParamSpec("P")
R = TypeVar("R")


def user_error(exc: SwitchboardError, constraint: str = "jsonSchema") -> GraphQLError:
    """`exc` as a GraphQL error: `extensions.code`, and `extensions.argument` when it is about one argument
    (`constraint`: the argument a generation's structured output came from, `inputs.constraint_argument`)."""
    extensions: dict[str, object] = {"code": exc.code.value.upper()}
    if (argument := graphql_argument(exc.field, constraint)) is not None:
        extensions["argument"] = argument
    return GraphQLError(graphql_message(exc, constraint), extensions=extensions)


def typed_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn SwitchboardErrors into GraphQL errors with a `code` extension."""

    @wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except SwitchboardError as exc:
            raise user_error(exc) from exc

    return wrapper


class Schema(strawberry.Schema):
    """Logs user errors in one line; only unexpected ones with a traceback. Subscriptions sent as plain HTTP
    requests get a clear error instead of a null-field failure."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[StrawberryOperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> StrawberryResult:
        # `execute` serves HTTP only (websocket subscriptions go through `subscribe`)
        if query and (problem := _http_problem(query, operation_name)) is not None:
            error = GraphQLError(problem, extensions={"code": "BAD_REQUEST"})
            count_refused(getattr(context_value, "metrics", None), self, parse_document(query), "bad_request")
            return StrawberryResult(data=None, errors=[error])
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            original = error.original_error
            if not (error.extensions or {}).get("code"):
                # no code yet: the document or a variable is wrong (syntax, unknown field or argument, a value
                # GraphQL cannot coerce: graphql-core wraps those in a GraphQLError), else it is a bug
                bad_input = original is None or isinstance(original, GraphQLError)
                error.extensions = {**(error.extensions or {}), "code": "BAD_REQUEST" if bad_input else "INTERNAL"}
                document = execution_context.graphql_document if execution_context is not None else None
                if bad_input and (argument := graphql_argument_at(document, error.nodes)) is not None:
                    error.extensions["argument"] = argument
            if original is None or isinstance(original, (GraphQLError, SwitchboardError)):
                log.info("graphql error", extra={"error": error.message, "path": error.path})
            else:
                log.error("graphql failure", exc_info=original)


SUBSCRIPTION_OVER_HTTP = (
    "subscriptions run over WebSocket (the graphql-transport-ws protocol, same URL); HTTP serves queries and mutations"
)


def _http_problem(query: str, operation_name: str | None) -> str | None:
    """A subscription sent over HTTP, or several operations and no `operationName` (GraphQL requires one)."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return None  # strawberry reports the syntax error
    if operation_name is None and (problem := operation_problem(document, None)) is not None:
        return problem
    operation = get_operation_ast(document, operation_name)
    if operation is not None and operation.operation == OperationType.SUBSCRIPTION:
        return SUBSCRIPTION_OVER_HTTP
    return None
