"""OpenAI's response objects for one request: a whole answer (`chat.completion`, `text_completion`), and a
stream of server-sent events (`chat.completion.chunk` per token batch, usage if asked, then `data: [DONE]`).
Web results ride along under the extension key `switchboard` (on the first chunk when streaming)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from messages import FinishReason, SwitchboardError, TokenChunk

from ..clients.search import Grounding
from .errors import from_switchboard, switchboard_response
from .protocol import OpenAIRequest

_encode = msgspec.json.Encoder().encode


def _finish(reason: FinishReason | None) -> str:
    return "length" if reason is FinishReason.LENGTH else "stop"


@dataclass
class Reply:
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


async def stream_events(
    request: web.Request, stream: AsyncGenerator[TokenChunk, None], reply: Reply
) -> web.StreamResponse:
    """Server-sent events: a chunk per token batch, the finish reason, usage if asked, then `[DONE]`.

    The first chunk is awaited before the response starts, so a refusal (busy, unknown adapter, no worker)
    is an HTTP error with its status, not an event."""
    async with contextlib.aclosing(stream):
        try:
            first = await anext(stream)
        except SwitchboardError as exc:
            return switchboard_response(exc)
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
            await send(from_switchboard(exc)[1])
        # a client that left raises out of here: closing the stream cancels the generation
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
