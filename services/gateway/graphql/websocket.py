"""graphql-transport-ws with limits and checks: each refusal is an `error` for that operation, not a closed socket.

strawberry's handler answers a full connection with an error that has no code, closes the whole socket
(4400) for an unknown `operationName` (ending the other operations on it), and, with the parser cache,
answers a syntax error with a bare `complete`. Here a `subscribe` is checked first: its size (a message
over `max_message_bytes` is read, aiohttp closes the socket with 1009 only past `HARD_LIMIT_BYTES`), the
operation cap, the payload's shape, the document's syntax and which operation it names; each refusal is
an `error` message for that id with `extensions.code`, and the connection stays open.
"""

from __future__ import annotations

import asyncio
import weakref
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage, Message, SubscribeMessage

from ..http.json_body import nested_too_deeply
from ..http.metrics import count_refused

OVERSIZE = "__switchboard_oversize__"  # set by the view's decoder on a message over the limit: its size
NESTED = "__switchboard_nested__"  # the view's decoder's stand-in for a message nested too deeply to decode
HARD_LIMIT_BYTES = 16 * 1024**2  # past this aiohttp closes the connection (1009) rather than read on


# operation tasks the client ended with `complete`; the others end because their connection closed
_completed: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()


def completed_by_client() -> bool:
    """True inside an operation the client stopped with graphql-ws `complete` (an explicit stop), False inside
    one that ends because its connection closed (a reload, a dropped network) or outside any operation."""
    task = asyncio.current_task()
    return task is not None and task in _completed


class LimitedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """Refuses, with a coded `error` for its id, a `subscribe` over the size limit or past the operation cap;
    marks the operations a client completes (`completed_by_client`); lets an operation end quietly when the
    client completes it, or the socket closes, just as it finishes (`cleanup_operation`)."""

    async def handle_message(self, message: Message) -> None:
        """A frame that is JSON but not an object (`[1]`, `"x"`), or nested too deeply to decode, closes the socket
        with 4400, as any other malformed message does, instead of a TypeError (a RecursionError) in strawberry's
        handler logged with a traceback."""
        if not isinstance(message, dict):
            await self.handle_invalid_message("a graphql-transport-ws message must be a JSON object")
            return
        if NESTED in message:
            await self.handle_invalid_message(nested_too_deeply("the message"))
            return
        await super().handle_message(message)

    async def handle_complete(self, message: CompleteMessage) -> None:
        operation = self.operations.get(message["id"])
        if operation is not None and operation.task is not None:
            _completed.add(operation.task)
        await super().handle_complete(message)

    async def cleanup_operation(self, operation_id: str) -> None:
        """End an operation the client completed, or whose socket closed: nothing more is sent for its id.

        strawberry de-registers the id and cancels the task, but a cancellation that lands in a resolver's
        cleanup can be absorbed there (`InferenceClient.stream` shields and suppresses its NATS unsubscribe),
        and the task then runs on to send its own `complete`, which de-registers the id a second time: a
        KeyError from `forget_id`, logged by strawberry as "Exception in worker task" with a traceback (about
        1 in 5 `complete`s sent as an answer ends). Had the client reused the id meanwhile, that second
        de-registration would drop its new operation. Marked completed, the operation sends nothing more and
        leaves `operations` alone, as graphql-transport-ws asks after a client's `complete`.
        """
        operation = self.operations.get(operation_id)
        if operation is not None:
            operation.completed = True
        await super().cleanup_operation(operation_id)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # strawberry closes the connection (4401, 4409)
            return
        size = message.get(OVERSIZE)
        limit = self.view.max_message_bytes  # type: ignore[attr-defined]
        cap = self.max_subscriptions_per_connection
        if isinstance(size, int):
            await self._refuse(
                message["id"],
                f"the message is {size} bytes, more than the gateway's {limit} (GATEWAY_MAX_MESSAGE_BYTES)",
                "BAD_REQUEST",
            )
        elif cap is not None and len(self.operations) >= cap:
            await self._refuse(
                message["id"],
                f"this connection already runs {cap} operations (GATEWAY_MAX_SUBSCRIPTIONS); "
                "complete one, or open another connection",
                "LIMIT_EXCEEDED",
            )
        elif (problem := payload_problem(message.get("payload"))) is not None:
            await self._refuse(message["id"], problem, "BAD_REQUEST")
        else:
            await super().handle_subscribe(message)

    async def _refuse(self, operation_id: str, text: str, code: str) -> None:
        error = GraphQLError(text, extensions={"code": code})
        # refused before strawberry runs it: counted here, as operation `unknown` (it may not even parse)
        count_refused(getattr(getattr(self.view, "context", None), "metrics", None), self.schema, None, code.lower())
        await self.send_message({"id": operation_id, "type": "error", "payload": [error.formatted]})


# apps send the same few documents again and again: one parse each, for every check made before execution
parse_document = lru_cache(maxsize=256)(parse)


def payload_problem(payload: object) -> str | None:
    """What is wrong with a `subscribe` payload, in words, or None: a `query` string that parses, `variables`
    an object, and an `operationName` that names one of its operations (required when it has several)."""
    if not isinstance(payload, dict):
        return "the subscribe message has no payload object"
    query, variables, name = payload.get("query"), payload.get("variables"), payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        return "the subscribe payload has no GraphQL `query` (a non-empty string)"
    if variables is not None and not isinstance(variables, dict):
        return "`variables` must be an object"
    if name is not None and not isinstance(name, str):
        return "`operationName` must be a string"
    try:
        document = parse_document(query)
    except GraphQLError as error:
        return error.message if not error.locations else f"{error.message} (line {error.locations[0].line})"
    return operation_problem(document, name)


def operation_problem(document: DocumentNode, name: str | None) -> str | None:
    """None when `name` picks one operation of `document` (or it has just one and `name` is None)."""
    names = [d.name.value if d.name else None for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None and len(names) > 1:
        return "the document has several operations: name the one to run in `operationName`"
    if name is not None and name not in names:
        return f"the document has no operation named {name!r}"
    return None
