"""Subscription events answered by a plan made once per subscription, not by a GraphQL execution each.

graphql-core executes every event of a subscription afresh: it collects the fields, builds a resolve info
per field, runs each resolver and completes each value. Relaying a token that way cost about 300 µs of the
gateway's CPU, the largest share of its per-token work (py-spy on `bench.relay`, 2-core machine). For a
selection of plain fields the answer is a projection of the event object, the same for every event, so it
is planned once:

- which fields, under which response keys, in which order: graphql-core's own field collection
  (`collect_fields`, `collect_subfields`), so aliases, fragments and `@skip`/`@include` with the
  operation's variables mean what they mean to graphql-core;
- each field's value: the attribute a strawberry field without a resolver of its own reads;
- each leaf's value: the schema type's `serialize`, as graphql-core completes leaves.

Anything the plan does not cover falls back to graphql-core: when planning (a resolver, an argument, an
abstract type, a field middleware) for the whole subscription, and per event (a null where the schema
forbids one, a value a scalar refuses, an object of another class), so results and errors are exactly
what graphql-core would give. graphql-core documents the per-event executor as the place to customise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

Project = Callable[[Any], Any]
EventPlan = Callable[[Any], dict[str, Any]]

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class _Fallback(Exception):
    """This event needs graphql-core's full execution."""


class PlannedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, answering subscription events from a plan when the selection allows one.

    Pass it as `execution_context_class` to `strawberry.Schema`. Queries and mutations run as before.
    """

    _event_plan: EventPlan | None = None
    _planned = False

    def build_per_event_executor(self, payload: Any) -> Any:
        if not self._planned:  # the subscription's own executor, before its first event
            self._event_plan = plan_event(self)
            self._planned = True
        if self._event_plan is None:
            return super().build_per_event_executor(payload)
        return _PlannedEvent(self._event_plan, payload, super().build_per_event_executor)


class _PlannedEvent:
    """Stands in for graphql-core's per-event executor (a copy of the subscription's), which
    `execute_subscription_event` asks for `execute_operation(False)`; made only when the plan falls back."""

    __slots__ = ("_build", "_payload", "_plan")

    def __init__(self, plan: EventPlan, payload: Any, build: Callable[[Any], Any]) -> None:
        self._plan = plan
        self._payload = payload
        self._build = build

    def execute_operation(self, serially: bool | None = None) -> Any:
        try:
            return ExecutionResult(data=self._plan(self._payload), errors=None)
        except _Fallback:
            return self._build(self._payload).execute_operation(serially)


def plan_event(executor: Any) -> EventPlan | None:
    """The projection of one event of `executor`'s subscription into its `data`, or None when the
    selection needs graphql-core (see the module's docstring). `executor` is a graphql-core `Executor`."""
    middleware = executor.middleware_manager
    if middleware is not None and middleware.middlewares:
        return None  # field middleware must see every resolver call
    root_type = executor.schema.subscription_type
    if root_type is None or executor.operation.operation is not OperationType.SUBSCRIPTION:
        return None
    try:
        collected = collect_fields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            root_type,
            executor.operation,
            executor.hide_suggestions,
        )
    except (GraphQLError, RecursionError):
        return None
    if collected.forbidden_directive_instances or len(collected.grouped_field_set) != 1:
        return None
    ((key, details),) = collected.grouped_field_set.items()
    field = root_type.fields.get(details[0].node.name.value)
    definition = None if field is None else field.extensions.get(_DEFINITION)
    if field is None or not getattr(definition, "is_subscription", False):
        return None
    # the event itself is the subscription field's value (strawberry resolves it as `lambda event: event`);
    # the field's arguments were used once, by its subscribe resolver
    project = _plan_value(executor, field.type, details)
    if project is None:
        return None
    return lambda event: {key: project(event)}


def _plan_value(executor: Any, type_: GraphQLOutputType, details: list[FieldDetails]) -> Project | None:
    if isinstance(type_, GraphQLNonNull):
        inner = _plan_value(executor, type_.of_type, details)
        return None if inner is None else _non_null(inner)
    if isinstance(type_, GraphQLList):
        item = _plan_value(executor, type_.of_type, details)
        return None if item is None else _list_of(item)
    if is_leaf_type(type_):
        return _leaf(type_.serialize)
    if isinstance(type_, GraphQLObjectType):
        return _plan_object(executor, type_, details)
    return None  # interfaces and unions: graphql-core resolves the runtime type


def _plan_object(executor: Any, type_: GraphQLObjectType, details: list[FieldDetails]) -> Project | None:
    definition = type_.extensions.get(_DEFINITION)
    origin = getattr(definition, "origin", None)
    if not isinstance(origin, type):
        return None
    try:
        collected = collect_subfields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            type_,
            details,
            executor.hide_suggestions,
        )
    except (GraphQLError, RecursionError):
        return None
    if collected.forbidden_directive_instances:
        return None
    fields: list[tuple[str, Project]] = []
    for key, field_details in collected.grouped_field_set.items():
        if any(d.defer_usage is not None or d.fragment_variable_values is not None for d in field_details):
            return None
        name = field_details[0].node.name.value
        if name == "__typename":
            fields.append((key, _constant(type_.name)))
            continue
        field = type_.fields.get(name)
        reader = None if field is None else _attribute_reader(field)
        if field is None or reader is None:
            return None
        project = _plan_value(executor, field.type, field_details)
        if project is None:
            return None
        fields.append((key, _compose(project, reader)))
    return _object(origin, tuple(fields))


def _attribute_reader(field: GraphQLField) -> Project | None:
    """How strawberry reads a field with no resolver, arguments or extensions; None for any other field."""
    definition = field.extensions.get(_DEFINITION)
    if field.args or definition is None or not getattr(field.resolve, "_is_default", False):
        return None
    if not definition.is_basic_field:
        return None
    read: Callable[[Any, str], Any] = definition.default_resolver
    name: str = definition.python_name
    return lambda source: read(source, name)


def _compose(project: Project, read: Project) -> Project:
    return lambda source: project(read(source))


def _constant(value: str) -> Project:
    return lambda _source: value


def _non_null(inner: Project) -> Project:
    def project(value: Any) -> Any:
        if value is None:
            raise _Fallback  # graphql-core reports the null as a field error
        return inner(value)

    return project


def _list_of(item: Project) -> Project:
    def project(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise _Fallback
        return [item(element) for element in value]

    return project


def _leaf(serialize: Callable[[Any], Any]) -> Project:
    def project(value: Any) -> Any:
        if value is None:
            return None
        try:
            serialized = serialize(value)
        except Exception as exc:
            raise _Fallback from exc
        if serialized is None or serialized is Undefined:
            raise _Fallback
        return serialized

    return project


def _object(origin: type, fields: tuple[tuple[str, Project], ...]) -> Project:
    def project(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, origin):
            raise _Fallback
        return {key: read(value) for key, read in fields}

    return project
