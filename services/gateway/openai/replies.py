"""OpenAI's response objects for one request: a whole answer (`chat.completion`, `text_completion`), and a
stream of server-sent events (`chat.completion.chunk` per token batch, usage if asked, then `data: [DONE]`).
Web results ride along under the extension key `switchboard` (on the first chunk when streaming).

A choice per `index` (n > 1): whole, one entry each; streamed, each event carries one choice's piece, the
role in that choice's first delta and its finish reason on its last. Tool calls are `message.tool_calls` (the
content null when the answer is only calls) or, streamed, `delta.tool_calls` with each whole call in one
delta. Logprobs are chat's `{"content": [{token, logprob, bytes, top_logprobs}]}` or completions' legacy
`{tokens, token_logprobs, top_logprobs, text_offset}`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from messages import FinishReason, SwitchboardError, TokenChunk
from messages.inference import TokenLogprob, ToolCall, TopLogprob, entry_bytes

from ..clients.search import Grounding
from ..generation import Choice, Whole
from .errors import from_switchboard, switchboard_response
from .protocol import OpenAIRequest

_encode = msgspec.json.Encoder().encode
_FINISH = {FinishReason.LENGTH: "length", FinishReason.TOOL_CALLS: "tool_calls"}  # the rest: "stop"


def _finish(reason: FinishReason | None) -> str:
    return _FINISH.get(reason, "stop") if reason is not None else "stop"


def _token(entry: TokenLogprob | TopLogprob) -> dict[str, Any]:
    """An entry as OpenAI writes one; `bytes` the worker's raw bytes where the text does not spell them (a
    token holding part of a UTF-8 character), else the text's UTF-8."""
    return {"token": entry.token, "logprob": entry.logprob, "bytes": list(entry_bytes(entry))}


def chat_logprobs(logprobs: list[TokenLogprob] | None) -> dict[str, Any] | None:
    """OpenAI's chat `logprobs`: `{"content": [{token, logprob, bytes, top_logprobs: [...]}]}`."""
    if logprobs is None:
        return None
    content = [{**_token(lp), "top_logprobs": [_token(t) for t in lp.top]} for lp in logprobs]
    return {"content": content}


def completion_logprobs(logprobs: list[TokenLogprob] | None, offset: int) -> dict[str, Any] | None:
    """OpenAI's legacy `logprobs` (`/v1/completions`): tokens, their logprobs, the most likely at each place,
    and where each token starts in the choice's text (from `offset`, the characters before this piece)."""
    if logprobs is None:
        return None
    offsets = []
    read = b""  # the piece's bytes so far: a token holding part of a character starts where that character does
    for lp in logprobs:
        offsets.append(offset + len(read.decode("utf-8", errors="ignore")))
        read += entry_bytes(lp)
    return {
        "tokens": [lp.token for lp in logprobs],
        "token_logprobs": [lp.logprob for lp in logprobs],
        # a dict by token text: of tokens that read alike (byte tokens, "\ufffd") it keeps the most likely
        "top_logprobs": [_by_text(lp.top) for lp in logprobs],
        "text_offset": offsets,
    }


def _by_text(top: list[TopLogprob]) -> dict[str, float]:
    found: dict[str, float] = {}
    for t in top:  # most likely first
        found.setdefault(t.token, t.logprob)
    return found


def tool_calls(calls: list[ToolCall], first: int = 0, delta: bool = False) -> list[dict[str, Any]]:
    """Calls as OpenAI writes them; in a streamed delta each names its place among the choice's calls
    (`index`, counting from `first`), and carries the whole call at once."""
    return [
        {
            **({"index": first + i} if delta else {}),
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for i, call in enumerate(calls)
    ]


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
        self._started: set[int] = set()  # choices whose first chunk went out (it names the role)
        self._finished: set[int] = set()  # choices whose finish reason went out
        self._calls: dict[int, int] = {}  # calls streamed so far, per choice
        self._offsets: dict[int, int] = {}  # characters streamed so far, per choice (legacy logprobs)

    @property
    def extension(self) -> dict[str, Any]:
        sources = [{"title": s.title, "url": s.url} for s in self.grounding.results]
        return {"switchboard": {"sources": sources, "search_notice": self.grounding.notice}}

    def _envelope(self, chunk: bool) -> dict[str, Any]:
        kind = ("chat.completion" if self.chat else "text_completion") + (".chunk" if chunk and self.chat else "")
        return {"id": self.id, "object": kind, "created": self.created, "model": self.asked.model}

    def usage(self, last: TokenChunk) -> dict[str, int] | None:
        if last.usage is None:
            return None
        u = last.usage
        return {
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.prompt_tokens + u.completion_tokens,
        }

    def _whole_choice(self, choice: Choice) -> dict[str, Any]:
        finish = _finish(choice.finish_reason)
        if not self.chat:
            logprobs = completion_logprobs(choice.logprobs, 0)
            return {"index": choice.index, "text": choice.text, "logprobs": logprobs, "finish_reason": finish}
        message: dict[str, Any] = {"role": "assistant", "content": choice.text}
        if choice.tool_calls:
            message["tool_calls"] = tool_calls(choice.tool_calls)
            message["content"] = choice.text or None  # only calls: no content, as OpenAI answers
        logprobs = chat_logprobs(choice.logprobs)
        return {"index": choice.index, "message": message, "logprobs": logprobs, "finish_reason": finish}

    def whole(self, whole: Whole) -> dict[str, Any]:
        body = {
            **self._envelope(chunk=False),
            "choices": [self._whole_choice(choice) for choice in whole.choices],
            "usage": self.usage(whole.last),
        }
        return {**body, **self.extension} if self.asked.web_search else body

    def _delta_choice(self, chunk: TokenChunk) -> dict[str, Any] | None:
        """One chunk's piece of its choice (None when it adds nothing to a choice that has finished)."""
        index = chunk.index
        if index in self._finished and not (chunk.token or chunk.tool_calls or chunk.logprobs):
            return None  # the request's last chunk repeating a finished choice's end
        if chunk.finish_reason is FinishReason.ERROR:  # the request failed: its error event follows, and a
            self._finished.add(index)  # choice it cut short never reads as finished (`stop`)
            if not (chunk.token or chunk.tool_calls or chunk.logprobs):
                return None
            finish = None
        else:
            finish = _finish(chunk.finish_reason) if chunk.finish_reason is not None else None
        if finish is not None:
            self._finished.add(index)
        if not self.chat:
            offset = self._offsets.get(index, 0)
            self._offsets[index] = offset + len(chunk.token)
            logprobs = completion_logprobs(chunk.logprobs, offset)
            return {"index": index, "text": chunk.token, "logprobs": logprobs, "finish_reason": finish}
        delta: dict[str, Any] = {"content": chunk.token}
        if index not in self._started:  # the role in a choice's first delta only, as OpenAI sends it
            self._started.add(index)
            delta = {"role": "assistant", **delta}
        if chunk.tool_calls:
            first = self._calls.get(index, 0)
            self._calls[index] = first + len(chunk.tool_calls)
            delta["tool_calls"] = tool_calls(chunk.tool_calls, first, delta=True)
            delta["content"] = chunk.token or None
        return {"index": index, "delta": delta, "logprobs": chat_logprobs(chunk.logprobs), "finish_reason": finish}

    def chunk(self, chunk: TokenChunk, first: bool) -> dict[str, Any] | None:
        """The event for one chunk (None when it carries nothing for any choice); the first event of the
        answer carries the web results, when asked."""
        choice = self._delta_choice(chunk)
        if choice is None:
            return None
        body = {**self._envelope(chunk=True), "choices": [choice]}
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
            return switchboard_response(exc, reply.asked.constraint_param)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def send(data: object) -> None:
            await response.write(b"data: " + _encode(data) + b"\n\n")

        chunk, is_first = first, True
        try:
            while True:
                event = reply.chunk(chunk, is_first)
                if event is not None:
                    await send(event)
                    is_first = False
                if chunk.done:
                    if reply.asked.include_usage:
                        await send(reply.usage_chunk(chunk))
                    break
                chunk = await anext(stream)
        except SwitchboardError as exc:
            await send(from_switchboard(exc, reply.asked.constraint_param)[1])
        # a client that left raises out of here: closing the stream cancels the generation
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
