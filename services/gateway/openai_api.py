"""The OpenAI-compatible HTTP API under `/v1`, on the same NATS path as GraphQL (`InferenceClient.stream`).

`GET /v1/models` lists the base model and every saved adapter, each adapter a model id (as vLLM and LoRAX
do); `model` in a request picks the base model or an adapter. `POST /v1/chat/completions` and
`POST /v1/completions` answer whole, or as server-sent events ending with `data: [DONE]`. Web search is
the extension field `web_search: true`; its sources come back under `switchboard` in the response (in
the first chunk when streaming). Errors have OpenAI's shape (`error.message`, `type`, `param`, `code`)
and status codes. A client that disconnects cancels its generation (aiohttp cancels the handler, and the
token stream's cleanup publishes the cancel).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from aiohttp import web

from messages import ErrorCode, FinishReason, GenerateRequest, SwitchboardError, TokenChunk, http_status

from .access import KEY_ID
from .error_fields import openai_message, openai_param
from .openai_requests import OpenAIRequest, OpenAIRequestError, read_chat, read_completion
from .schema import Context
from .search_client import Grounding

_encode = msgspec.json.Encoder().encode
BASE_MODEL_TTL_S = 30.0  # how long the served base model's id is trusted before asking a worker again

# SwitchboardError code -> OpenAI's error type and code (the HTTP status comes from messages.HTTP_STATUS)
_OPENAI_ERROR: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.BAD_REQUEST: ("invalid_request_error", "invalid_value"),
    ErrorCode.CONTEXT_OVERFLOW: ("invalid_request_error", "context_length_exceeded"),
    ErrorCode.ADAPTER_MISSING: ("invalid_request_error", "model_not_found"),
    ErrorCode.INCOMPATIBLE: ("invalid_request_error", "model_incompatible"),
    ErrorCode.NOT_FOUND: ("invalid_request_error", "not_found"),
    ErrorCode.CONFLICT: ("invalid_request_error", "conflict"),
    ErrorCode.UNAUTHENTICATED: ("invalid_request_error", "invalid_api_key"),
    ErrorCode.FORBIDDEN: ("invalid_request_error", "forbidden"),
    ErrorCode.BUSY: ("rate_limit_error", "busy"),
    ErrorCode.RATE_LIMITED: ("rate_limit_error", "rate_limited"),
    ErrorCode.UNAVAILABLE: ("server_error", "unavailable"),
    ErrorCode.OFFLINE: ("server_error", "offline"),
    ErrorCode.TIMEOUT: ("server_error", "timeout"),
    ErrorCode.CANCELLED: ("server_error", "cancelled"),
    ErrorCode.INTERNAL: ("server_error", "internal"),
}


def error_body(message: str, error_type: str, param: str | None, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_response(status: int, message: str, error_type: str, param: str | None, code: str) -> web.Response:
    return web.json_response(error_body(message, error_type, param, code), status=status)


def _from_switchboard(exc: SwitchboardError) -> tuple[int, dict[str, Any]]:
    """HTTP status and OpenAI error body; `param` comes from the error's field (an adapter the model)."""
    status = http_status(exc.code)
    error_type, code = _OPENAI_ERROR[exc.code]
    param = openai_param(exc.field)
    if param is None and exc.code is ErrorCode.INCOMPATIBLE:
        param = "model"
    return status, error_body(openai_message(exc), error_type, param, code)


def _finish(reason: FinishReason | None) -> str:
    return "length" if reason is FinishReason.LENGTH else "stop"


@dataclass
class OpenAIRoutes:
    """The `/v1` handlers, sharing the GraphQL view's NATS clients."""

    context: Context
    _base_model: tuple[float, str] | None = None

    def register(self, app: web.Application) -> None:
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/v1/models/{model:.+}", self.model)  # ids have a slash: org/name
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_post("/v1/completions", self.completions)

    async def base_model(self) -> str:
        now = time.monotonic()
        if self._base_model is None or now - self._base_model[0] > BASE_MODEL_TTL_S:
            self._base_model = (now, (await self.context.inference.info()).model_id)
        return self._base_model[1]

    async def _model_list(self) -> list[dict[str, Any]]:
        """The base model, then every saved adapter, as OpenAI model objects. Raises SwitchboardError."""
        base = await self.base_model()
        listed = await self.context.adapters.list()
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
            status, body = _from_switchboard(exc)
            return web.json_response(body, status=status)

    async def model(self, request: web.Request) -> web.Response:
        """One entry of `/v1/models` (404 `model_not_found` for another id)."""
        try:
            listed = await self._model_list()
        except SwitchboardError as exc:
            status, body = _from_switchboard(exc)
            return web.json_response(body, status=status)
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

    async def _complete(self, request: web.Request, read: Any, chat: bool) -> web.StreamResponse:
        try:
            body = msgspec.json.decode(await request.read())
        except (msgspec.DecodeError, RecursionError):  # RecursionError: JSON nested deeper than Python goes
            return error_response(400, "the request body is not valid JSON", "invalid_request_error", None, "bad_json")
        try:
            asked: OpenAIRequest = read(body)
            generate, grounding = await self._prepare(asked, request.get(KEY_ID, ""))
        except OpenAIRequestError as exc:
            return error_response(400, exc.message, "invalid_request_error", exc.param, exc.code)
        except SwitchboardError as exc:
            status, error = _from_switchboard(exc)
            return web.json_response(error, status=status)
        reply = _Reply(asked, generate.request_id, chat, grounding)
        stream = self.context.inference.stream(generate)
        if asked.stream:
            return await _stream(request, stream, reply)
        text: list[str] = []
        last: TokenChunk | None = None
        try:
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for chunk in stream:
                    text.append(chunk.token)
                    last = chunk
        except SwitchboardError as exc:
            status, error = _from_switchboard(exc)
            return web.json_response(error, status=status)
        assert last is not None
        return web.json_response(reply.whole("".join(text), last))

    async def _prepare(self, asked: OpenAIRequest, owner: str) -> tuple[GenerateRequest, Grounding]:
        """The request for the workers, its id reserved as `owner`'s (the key's id, "" without keys), and the
        web results it is grounded in. Raises SwitchboardError."""
        base = await self.base_model()
        grounding = await self.context.search.ground(asked.search_query) if asked.web_search else Grounding([])
        generate = GenerateRequest(
            request_id=await self.context.inference.reserve(owner),
            prompt=asked.prompt,
            messages=asked.messages,
            params=asked.params,
            sources=list(grounding.results) or None,
            adapter=None if asked.model == base else asked.model,
            base_model=asked.model == base,
        )
        return generate, grounding


@dataclass
class _Reply:
    """OpenAI's response objects for one request."""

    asked: OpenAIRequest
    request_id: str
    chat: bool
    grounding: Grounding

    def __post_init__(self) -> None:
        self.created = int(time.time())
        self.id = ("chatcmpl-" if self.chat else "cmpl-") + self.request_id

    @property
    def extension(self) -> dict[str, Any]:
        sources = [{"title": s.title, "url": s.url} for s in self.grounding.results]
        return {"switchboard": {"sources": sources, "search_notice": self.grounding.notice}}

    def _envelope(self, chunk: bool) -> dict[str, Any]:
        kind = ("chat.completion" if self.chat else "text_completion") + (".chunk" if chunk and self.chat else "")
        return {"id": self.id, "object": kind, "created": self.created, "model": self.asked.model}

    def _choice(self, text: str, finish: str | None, delta: bool, first: bool = True) -> dict[str, Any]:
        """One choice; a streamed chat chunk names the role in the first delta only, as OpenAI does."""
        if not self.chat:
            return {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        if delta:
            message = {"role": "assistant", "content": text} if first else {"content": text}
            return {"index": 0, "delta": message, "finish_reason": finish}
        return {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}

    def usage(self, last: TokenChunk) -> dict[str, int] | None:
        if last.usage is None:
            return None
        u = last.usage
        return {
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.prompt_tokens + u.completion_tokens,
        }

    def whole(self, text: str, last: TokenChunk) -> dict[str, Any]:
        body = {
            **self._envelope(chunk=False),
            "choices": [self._choice(text, _finish(last.finish_reason), delta=False)],
            "usage": self.usage(last),
        }
        return {**body, **self.extension} if self.asked.web_search else body

    def chunk(self, text: str, finish: str | None, first: bool) -> dict[str, Any]:
        body = {**self._envelope(chunk=True), "choices": [self._choice(text, finish, delta=True, first=first)]}
        return {**body, **self.extension} if first and self.asked.web_search else body

    def usage_chunk(self, last: TokenChunk) -> dict[str, Any]:
        return {**self._envelope(chunk=True), "choices": [], "usage": self.usage(last)}


async def _stream(request: web.Request, stream: AsyncIterator[TokenChunk], reply: _Reply) -> web.StreamResponse:
    """Server-sent events: a chunk per token batch, the finish reason, usage if asked, then `[DONE]`.

    The first chunk is awaited before the response starts, so a refusal (busy, unknown adapter, no worker)
    is an HTTP error with its status, not an event."""
    async with contextlib.aclosing(stream):  # type: ignore[type-var]
        try:
            first = await anext(stream)
        except SwitchboardError as exc:
            status, error = _from_switchboard(exc)
            return web.json_response(error, status=status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def send(data: object) -> None:
            await response.write(b"data: " + _encode(data) + b"\n\n")

        chunk, is_first = first, True
        try:
            while True:
                done = chunk.done
                await send(reply.chunk(chunk.token, _finish(chunk.finish_reason) if done else None, is_first))
                is_first = False
                if done:
                    if reply.asked.include_usage:
                        await send(reply.usage_chunk(chunk))
                    break
                chunk = await anext(stream)
        except SwitchboardError as exc:
            await send(_from_switchboard(exc)[1])
        # a client that left raises out of here: closing the stream cancels the generation
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _epoch(timestamp: str) -> int:
    try:
        return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0
