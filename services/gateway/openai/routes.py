"""The OpenAI-compatible HTTP API under `/v1`: translation only, onto the generation layer GraphQL uses too.

`GET /v1/models` lists the base model and every saved adapter, each adapter a model id (as vLLM and LoRAX
do); `model` in a request picks the base model or an adapter. `POST /v1/chat/completions` and
`POST /v1/completions` answer whole, or as server-sent events ending with `data: [DONE]` (`replies.py`).
Web search is the extension field `web_search: true`; its sources come back under `switchboard` in the
response (in the first chunk when streaming). Errors have OpenAI's shape and status codes (`errors.py`). A
client that disconnects cancels its generation (aiohttp cancels the handler, and the token stream's clean-up
publishes the cancel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from aiohttp import web

from messages import SwitchboardError

from ..clients import Clients
from ..generation import Ask, Generations
from ..http.door import KEY_ID
from ..http.json_body import nested_too_deeply
from .errors import error_response, switchboard_response
from .protocol import OpenAIRequest, read_chat, read_completion
from .replies import Reply, stream_events
from .request_error import OpenAIRequestError


@dataclass
class OpenAIRoutes:
    """The `/v1` handlers, over the clients and generation layer the GraphQL view has too."""

    clients: Clients
    generations: Generations

    def register(self, app: web.Application) -> None:
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/v1/models/{model:.+}", self.model)  # ids have a slash: org/name
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_post("/v1/completions", self.completions)

    async def _model_list(self) -> list[dict[str, Any]]:
        """The base model, then every saved adapter, as OpenAI model objects. Raises SwitchboardError."""
        base = await self.generations.base_model()
        listed = await self.clients.adapters.list()
        data = [{"id": base, "object": "model", "created": 0, "owned_by": "switchboard"}]
        data += [
            {"id": a.name, "object": "model", "created": _epoch(a.created), "owned_by": "switchboard", "parent": base}
            for a in listed.adapters
        ]
        return data

    async def models(self, request: web.Request) -> web.Response:
        try:
            return web.json_response({"object": "list", "data": await self._model_list()})
        except SwitchboardError as exc:
            return switchboard_response(exc)

    async def model(self, request: web.Request) -> web.Response:
        """One entry of `/v1/models` (404 `model_not_found` for another id)."""
        try:
            listed = await self._model_list()
        except SwitchboardError as exc:
            return switchboard_response(exc)
        wanted = request.match_info["model"]
        entry = next((e for e in listed if e["id"] == wanted), None)
        if entry is not None:
            return web.json_response(entry)
        return error_response(
            404, f"no model {wanted!r} (GET /v1/models)", "invalid_request_error", "model", "model_not_found"
        )

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, read_chat, chat=True)

    async def completions(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, read_completion, chat=False)

    async def _complete(
        self, request: web.Request, read: Callable[[object], OpenAIRequest], chat: bool
    ) -> web.StreamResponse:
        try:
            body = msgspec.json.decode(await request.read())
        except msgspec.DecodeError:
            return error_response(400, "the request body is not valid JSON", "invalid_request_error", None, "bad_json")
        except RecursionError:  # valid JSON, perhaps, but nested deeper than the decoder goes
            return error_response(400, nested_too_deeply(), "invalid_request_error", None, "bad_json")
        try:
            asked = read(body)
        except OpenAIRequestError as exc:
            return error_response(400, exc.message, "invalid_request_error", exc.param, exc.code)
        try:
            planned = await self.generations.prepare(await self._ask(asked, request.get(KEY_ID, "")))
        except SwitchboardError as exc:
            return switchboard_response(exc, asked.constraint_param)
        reply = Reply(asked, planned.request_id, chat, planned.grounding)
        if asked.stream:
            return await stream_events(request, self.generations.stream(planned), reply)
        try:
            whole = await self.generations.whole(planned)
        except SwitchboardError as exc:
            return switchboard_response(exc, asked.constraint_param)
        return web.json_response(reply.whole(whole))

    async def _ask(self, asked: OpenAIRequest, owner: str) -> Ask:
        """`asked` as the generation layer's request, as `owner`'s (the key's id, "" without keys): `model`
        names the base model or an adapter. Raises SwitchboardError when the base model cannot be told."""
        base = await self.generations.base_model()
        return Ask(
            params=asked.params,
            prompt=asked.prompt,
            messages=asked.messages,
            adapter=None if asked.model == base else asked.model,
            base_model=asked.model == base,
            web_search=asked.web_search,
            owner=owner,
            constraint=asked.constraint,
            tools=asked.tools,
            tool_choice=asked.tool_choice,
            parallel_tool_calls=asked.parallel_tool_calls,
        )


def _epoch(timestamp: str) -> int:
    try:
        return int(datetime.fromisoformat(timestamp).timestamp())
    except ValueError:
        return 0
