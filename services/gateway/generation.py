"""The generation layer under both front ends (as vLLM's `OpenAIServing` sits under its chat and completion
endpoints): a request in wire terms is prepared (checked, its id reserved, grounded, the model chosen), then
streamed or collected whole. GraphQL (`graphql/`) and the OpenAI API (`openai/`) only translate to and from it.

    GraphQL args ─┐                                  ┌─ stream(planned)  → chunks (GraphQL events, SSE)
                  ├─ Ask ─ check → reserve → ground ─┤
    OpenAI body ──┘          (Planned: request + grounding)  └─ whole(planned)   → one answer

Every rule about a generation lives here once: a request is checked as a worker checks it before its id is
taken (a refused request never holds an id); the id is the caller's (`Ask.request_id`) or a new one, reserved
as the caller's key's; web results are searched for `Ask.search_query` and sent with the request; the base
model's id is asked of a worker at most every `BASE_MODEL_TTL_S`; the gateway's own limits (`Limits`: choices,
tools, schema size) are checked beside the worker's, and a `tool_choice` naming a function the request does not
offer is refused here.

With `n` > 1 a generation has several choices: its chunks carry their choice's `index` (and each choice's last
one its finish reason); `whole` collects them per choice.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field

from messages import ChatMessage, FinishReason, GenerateRequest, GenerationParams, TokenChunk, decode, encode
from messages.inference import (
    ChoiceConstraint,
    Constraint,
    FunctionTool,
    JsonConstraint,
    RegexConstraint,
    TokenLogprob,
    ToolCall,
    ToolChoice,
)

from .clients.answers import check_id
from .clients.inference import InferenceClient
from .clients.search import Grounding, SearchClient
from .http.metrics import GatewayMetrics
from .limits import Limits

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
    constraint: Constraint | None = None  # structured output: JSON (a schema), a regex, a choice
    tools: list[FunctionTool] | None = None  # functions the model may call
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool = True

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
            constraint=self.constraint,
            tools=self.tools or None,
            tool_choice=self.tool_choice,
            parallel_tool_calls=self.parallel_tool_calls,
        )


@dataclass(frozen=True)
class Planned:
    """A prepared generation: the request a worker gets, and the web results it is grounded in."""

    request: GenerateRequest
    grounding: Grounding

    @property
    def request_id(self) -> str:
        return self.request.request_id


@dataclass
class Choice:
    """One choice of a collected answer (`index` 0 to n-1): its text, the calls it made, its tokens'
    logprobs (when asked), and why it ended."""

    index: int
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    logprobs: list[TokenLogprob] | None = None
    finish_reason: FinishReason | None = None


@dataclass(frozen=True)
class Whole:
    """A collected answer: its choices by index (one unless `n` > 1), and the last chunk (usage; with n = 1
    the finish reason)."""

    choices: list[Choice]
    last: TokenChunk

    @property
    def text(self) -> str:
        """The first choice's text."""
        return self.choices[0].text

    @classmethod
    def of(cls, chunks: list[TokenChunk], n: int = 1) -> Whole:
        """`chunks` (a whole generation's, in order, the last with `done`) collected per choice. A choice
        whose own last chunk named no finish reason ends with the generation's."""
        parts: dict[int, list[str]] = {}
        choices = {i: Choice(i) for i in range(n)}
        for chunk in chunks:
            choice = choices.get(chunk.index)
            if choice is None:
                choice = choices[chunk.index] = Choice(chunk.index)
            parts.setdefault(chunk.index, []).append(chunk.token)
            if chunk.tool_calls:
                choice.tool_calls.extend(chunk.tool_calls)
            if chunk.logprobs is not None:
                if choice.logprobs is None:
                    choice.logprobs = []
                choice.logprobs.extend(chunk.logprobs)
            if chunk.finish_reason is not None:
                choice.finish_reason = chunk.finish_reason
        last = chunks[-1]
        for index, choice in choices.items():
            choice.text = "".join(parts.get(index, ()))
            if choice.finish_reason is None:
                choice.finish_reason = last.finish_reason
        return cls([choices[i] for i in sorted(choices)], last)


class Generations:
    """Prepare, stream and collect generations over the inference and search clients."""

    def __init__(
        self,
        inference: InferenceClient,
        search: SearchClient,
        limits: Limits | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._inference = inference
        self._search = search
        self.limits = limits or Limits()
        self._metrics = metrics
        self._base_model: tuple[float, str] | None = None

    async def reserve(self, ask: Ask) -> str:
        """Check `ask` as a worker would and against `limits`, then reserve its id as `ask.owner`'s (the
        caller's id, else a new one).

        Raises:
            SwitchboardError: BAD_REQUEST for a wrong argument, a limit passed, or an id that cannot be one (with
                its `field`), CONFLICT for an id already used, UNAVAILABLE when a caller's id cannot be reserved now.
        """
        if ask.request_id is not None:
            check_id(ask.request_id)
        self.limits.check(decode(encode(ask.request(ask.request_id or "0", Grounding([]))), GenerateRequest))
        request_id = await self._inference.reserve(ask.owner, ask.request_id)
        if self._metrics is not None:
            for kind in _kinds(ask):
                self._metrics.constrained.labels(kind).inc()
        return request_id

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
        """The answer collected whole, per choice. Raises SwitchboardError as `stream` does; a caller that
        leaves meanwhile (its task cancelled) cancels the generation at once."""
        async with contextlib.aclosing(self.stream(planned)) as stream:
            chunks = [chunk async for chunk in stream]
        assert chunks and chunks[-1].done  # the stream ends with its final chunk
        return Whole.of(chunks, planned.request.params.n)

    async def base_model(self) -> str:
        """The served base model's id, asked of a worker at most every BASE_MODEL_TTL_S. Raises SwitchboardError."""
        now = time.monotonic()
        if self._base_model is None or now - self._base_model[0] > BASE_MODEL_TTL_S:
            self._base_model = (now, (await self._inference.info()).model_id)
        return self._base_model[1]


def _kinds(ask: Ask) -> list[str]:
    """What `ask` constrains, as `/metrics` counts it: json, json_schema, regex, choice, tools."""
    kinds = ["tools"] if ask.tools else []
    if isinstance(ask.constraint, JsonConstraint):
        kinds.append("json_schema" if ask.constraint.schema is not None else "json")
    elif isinstance(ask.constraint, RegexConstraint):
        kinds.append("regex")
    elif isinstance(ask.constraint, ChoiceConstraint):
        kinds.append("choice")
    return kinds
