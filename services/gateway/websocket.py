"""graphql-transport-ws with limits: operations per connection, and the size of one message.

strawberry's handler closes nothing for these, and answers a full connection with an error that has no
code; here each refusal is an `error` message for that operation id, with `extensions.code`, and the
connection stays open. A message larger than `max_message_bytes` is read (aiohttp closes the socket
with 1009 only past `HARD_LIMIT_BYTES`) and refused the same way.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

OVERSIZE = "__switchboard_oversize__"  # set by the view's decoder on a message over the limit: its size
HARD_LIMIT_BYTES = 16 * 1024**2  # past this aiohttp closes the connection (1009) rather than read on


class LimitedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """Refuses, with a coded `error` for its id, a `subscribe` over the size limit or past the operation cap."""

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
        else:
            await super().handle_subscribe(message)

    async def _refuse(self, operation_id: str, text: str, code: str) -> None:
        error = GraphQLError(text, extensions={"code": code})
        await self.send_message({"id": operation_id, "type": "error", "payload": [error.formatted]})
