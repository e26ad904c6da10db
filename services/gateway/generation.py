"""The generation layer under both front ends (as vLLM's `OpenAIServing` sits under its chat and completion
endpoints): a request in wire terms is prepared (checked, its id reserved, grounded, the model chosen), then
streamed or collected whole. GraphQL (`graphql/`) and the OpenAI API (`openai/`) only translate to and from it.

    GraphQL args ─┐                                  ┌─ stream(planned)  → chunks (GraphQL events, SSE)
                  ├─ Ask ─ check → reserve → ground ─┤
    OpenAI body ──┘          (Planned: request + grounding)  └─ whole(planned)   → one answer

Every rule about a generation lives here once: a request is checked as a worker checks it before its id is
taken (a refused request never holds an id); the id is the caller's (`Ask.request_id`) or a new one, reserved
as the caller's key's; web results are searched for `Ask.search_query` and sent with the request; the base
model's id is asked of a worker at most every `BASE_MODEL_TTL_S`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

from messages import ChatMessage, GenerateRequest, GenerationParams, TokenChunk, decode, encode

from .clients.answers import check_id
from .clients.inference import InferenceClient
from .clients.search import Grounding, SearchClient

BASE_MODEL_TTL_S = 30.0  # how long the served base model's id is trusted before asking a worker again


@dataclass(frozen=True)
class Ask:
    """One generation as either API asks for it, in wire terms: the earlier turns and/or a prompt (a prompt
    after `messages` is the new user turn), the settings, the model choice, grounding, and whose it is."""

    params: GenerationParams
    prompt: str | None = None
    messages: list[ChatMessage] | None = None
    adapter: str | None = None
    base_model: bool = False
    web_search: bool = False
    request_id: str | None = None  # the caller's own id; None: a new random one
    owner: str = ""  # the caller's key's id ("" without keys): who may read the answer back

    @property
    def search_query(self) -> str:
        """What to search the web for: the prompt, else the last user turn."""
        if self.prompt is not None:
            return self.prompt
        return next((m.content for m in reversed(self.messages or []) if m.role == "user"), "")

    def request(self, request_id: str, grounding: Grounding) -> GenerateRequest:
        """The worker's request: with a prompt and earlier turns, the prompt is appended as the user's turn."""
        messages = self.messages
        if messages and self.prompt is not None:
            messages = [*messages, ChatMessage(role="user", content=self.prompt)]
        return GenerateRequest(
            request_id=request_id,
            prompt=None if messages else self.prompt,
            messages=messages or None,
            params=self.params,
            sources=list(grounding.results) or None,
            adapter=self.adapter,
            base_model=self.base_model,
        )


@dataclass(frozen=True)
class Planned:
    """A prepared generation: the request a worker gets, and the web results it is grounded in."""

    request: GenerateRequest
    grounding: Grounding

    @property
    def request_id(self) -> str:
        return self.request.request_id


@dataclass(frozen=True)
class Whole:
    """A collected answer: its text, and the last chunk (finish reason, usage)."""

    text: str
    last: TokenChunk


class Generations:
    """Prepare, stream and collect generations over the inference and search clients."""

    def __init__(self, inference: InferenceClient, search: SearchClient) -> None:
        self._inference = inference
        self._search = search
        self._base_model: tuple[float, str] | None = None

    async def reserve(self, ask: Ask) -> str:
        """Check `ask` as a worker would, then reserve its id as `ask.owner`'s (the caller's id, else a new one).

        Raises:
            SwitchboardError: BAD_REQUEST for a wrong argument or an id that cannot be one (with its `field`),
                CONFLICT for an id already used, UNAVAILABLE when a caller's id cannot be reserved now.
        """
        if ask.request_id is not None:
            check_id(ask.request_id)
        decode(encode(ask.request(ask.request_id or "0", Grounding([]))), GenerateRequest)
        return await self._inference.reserve(ask.owner, ask.request_id)

    async def ground(self, ask: Ask) -> Grounding:
        """Web results for `ask`, or none with a notice saying why; never raises."""
        return await self._search.ground(ask.search_query) if ask.web_search else Grounding([])

    async def prepare(self, ask: Ask) -> Planned:
        """Check, reserve and ground `ask`. Raises SwitchboardError as `reserve` does."""
        request_id = await self.reserve(ask)
        grounding = await self.ground(ask)
        return Planned(ask.request(request_id, grounding), grounding)

    def stream(
        self, planned: Planned, may_resume: Callable[[], bool] | None = None
    ) -> AsyncGenerator[TokenChunk, None]:
        """The answer's chunks, the last with `done`. Closing the stream early cancels the generation, unless
        `may_resume()` says then that the caller may pick it up again (`InferenceClient.stream`).

        Raises:
            SwitchboardError: a refusal (BUSY, ADAPTER_MISSING, UNAVAILABLE, ...) or a failure mid-answer.
        """
        return self._inference.stream(planned.request, may_resume)

    async def whole(self, planned: Planned) -> Whole:
        """The answer collected whole. Raises SwitchboardError as `stream` does; a caller that leaves meanwhile
        (its task cancelled) cancels the generation at once."""
        parts: list[str] = []
        last: TokenChunk | None = None
        async with contextlib.aclosing(self.stream(planned)) as stream:
            async for chunk in stream:
                parts.append(chunk.token)
                last = chunk
        assert last is not None and last.finish_reason is not None  # the stream ends with its final chunk
        return Whole("".join(parts), last)

    async def base_model(self) -> str:
        """The served base model's id, asked of a worker at most every BASE_MODEL_TTL_S. Raises SwitchboardError."""
        now = time.monotonic()
        if self._base_model is None or now - self._base_model[0] > BASE_MODEL_TTL_S:
            self._base_model = (now, (await self._inference.info()).model_id)
        return self._base_model[1]
