"""A minimal GraphQL client for tests: queries over HTTP, subscriptions over graphql-transport-ws."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp


async def post(
    url: str, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
) -> dict[str, Any]:
    payload = {"query": query, "variables": variables or {}, "operationName": operation_name}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=payload) as response:
            body: dict[str, Any] = await response.json()
            return body


class Subscription:
    """One graphql-transport-ws connection carrying one subscription."""

    def __init__(
        self,
        url: str,
        query: str,
        variables: dict[str, Any] | None = None,
        origin: str | None = None,
        key: str | None = None,
    ):
        self.url = url.replace("http://", "ws://")
        self.query = query
        self.variables = variables or {}
        self.origin = origin
        self.key = key  # sent in connection_init, as the web app sends it
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> Subscription:
        self.session = aiohttp.ClientSession()
        headers = {"Origin": self.origin} if self.origin else None
        try:
            self.ws = await self.session.ws_connect(self.url, protocols=("graphql-transport-ws",), headers=headers)
        except BaseException:
            await self.session.close()
            raise
        init: dict[str, Any] = {"type": "connection_init"}
        if self.key is not None:
            init["payload"] = {"Authorization": f"Bearer {self.key}"}
        await self.ws.send_json(init)
        ack = await self.ws.receive_json(timeout=5)
        assert ack["type"] == "connection_ack", ack
        await self.ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": self.query, "variables": self.variables}}
        )
        return self

    async def messages(self, timeout: float = 60) -> AsyncIterator[dict[str, Any]]:
        """Yield `next` payloads until `complete`; an `error` message is yielded as {'errors': [...]}."""
        assert self.ws is not None
        while True:
            msg = await self.ws.receive(timeout=timeout)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return
            data = json.loads(msg.data)
            if data["type"] == "next":
                yield data["payload"]
            elif data["type"] == "error":
                yield {"errors": data["payload"]}
                return
            elif data["type"] == "complete":
                return

    async def complete(self) -> None:
        assert self.ws is not None
        await self.ws.send_json({"id": "1", "type": "complete"})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
