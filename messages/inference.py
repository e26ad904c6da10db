"""Messages of the inference service: generate request and reply, token chunks, cancel, model info."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .errors import ErrorMessage
from .fields import AdapterName, RequestId, Subject
from .search import SearchResult

MAX_PROMPT_CHARS = 200_000
MAX_NEW_TOKENS_LIMIT = 8192
MAX_STOP_STRINGS = 8
MAX_CHOICES = 8  # `n`: answers to one prompt, each its own row of the batch (issue 24; a setting may lower it)
MAX_TOP_LOGPROBS = 20  # as OpenAI's chat completions allow
MAX_TOOLS = 128  # functions offered in one request (OpenAI allows 128; a setting may lower it)
MAX_CHOICE_STRINGS = 256  # strings of a `choice` constraint
FUNCTION_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # OpenAI's rule for a function's name

Role = Literal["system", "user", "assistant", "tool"]


FunctionName = Annotated[str, Meta(pattern=FUNCTION_NAME_PATTERN)]


class ToolCall(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A call of one of the request's functions, as the model wrote it: `arguments` is JSON text (an object),
    as OpenAI's `function.arguments`. `id` is the worker's (`call_` + 24 hex digits), unique per answer."""

    id: Annotated[str, Meta(min_length=1, max_length=64)]
    name: FunctionName
    arguments: Annotated[str, Meta(max_length=MAX_PROMPT_CHARS)]


class ChatMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One turn of a conversation. An `assistant` turn may carry the `tool_calls` it made (its `content` may
    then be empty); a `tool` turn is one call's result, naming the call in `tool_call_id`."""

    role: Role
    content: Annotated[str, Meta(max_length=MAX_PROMPT_CHARS)] = ""
    tool_calls: Annotated[list[ToolCall], Meta(max_length=MAX_TOOLS)] | None = None
    tool_call_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class FunctionTool(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A function the model may call: `parameters` is the JSON Schema of its arguments (an object schema;
    None: no arguments). `strict`: the arguments are held to the schema by the grammar engine whenever the
    model calls it, not only under `tool_choice` required or named."""

    name: FunctionName
    description: Annotated[str, Meta(max_length=4096)] = ""
    parameters: dict[str, Any] | None = None
    strict: bool = False


class ToolChoice(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Whether the model calls a function: `auto` (it decides), `none` (it answers in text), `required` (at
    least one call, always well-formed), `function` (a call of `name`, always well-formed)."""

    mode: Literal["auto", "none", "required", "function"] = "auto"
    name: FunctionName | None = None  # with mode `function`


class JsonConstraint(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="json", tag_field="type"):
    """The answer is JSON: an object valid against `schema` (JSON Schema), or any JSON object when None."""

    schema: dict[str, Any] | None = None


class RegexConstraint(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="regex", tag_field="type"):
    """The answer matches `pattern` (the grammar engine's regex dialect: xgrammar's, like vLLM's)."""

    pattern: Annotated[str, Meta(min_length=1, max_length=MAX_PROMPT_CHARS)]


class ChoiceConstraint(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="choice", tag_field="type"):
    """The answer is exactly one of `choices`."""

    choices: Annotated[list[Annotated[str, Meta(min_length=1)]], Meta(min_length=1, max_length=MAX_CHOICE_STRINGS)]


# structured output: a per-row mask on the logits (the grammar engine's), inside the running batch
Constraint = JsonConstraint | RegexConstraint | ChoiceConstraint


class GenerationParams(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How to sample. `temperature` 0 means greedy decoding (deterministic)."""

    max_new_tokens: Annotated[int, Meta(ge=1, le=MAX_NEW_TOKENS_LIMIT)] = 256
    temperature: Annotated[float, Meta(ge=0.0, le=5.0)] = 0.0
    top_p: Annotated[float, Meta(gt=0.0, le=1.0)] = 1.0
    stop: Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(max_length=MAX_STOP_STRINGS)] = (
        msgspec.field(default_factory=list)
    )
    seed: Annotated[int, Meta(ge=0, le=2**32 - 1)] | None = None
    # answers to the one prompt: one prefill, `n` rows decoding, row i sampling with seed + i
    n: Annotated[int, Meta(ge=1, le=MAX_CHOICES)] = 1
    # each chosen token's log-probability under the model's own distribution (before temperature and top-p;
    # with a constraint, the masked one), and the `top_logprobs` most likely tokens at its place
    logprobs: bool = False
    top_logprobs: Annotated[int, Meta(ge=0, le=MAX_TOP_LOGPROBS)] = 0


class GenerateRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Start a generation. Give either `prompt` or `messages` (a chat), not both."""

    request_id: RequestId
    prompt: Annotated[str, Meta(max_length=MAX_PROMPT_CHARS)] | None = None
    messages: list[ChatMessage] | None = None
    params: GenerationParams = msgspec.field(default_factory=GenerationParams)
    adapter: AdapterName | None = None
    base_model: bool = False  # answer with the base model even while an adapter is active (not with `adapter`)
    sources: Annotated[list[SearchResult], Meta(max_length=10)] | None = None  # web results to ground in
    constraint: Constraint | None = None  # structured output (JSON, JSON Schema, regex, choice)
    tools: Annotated[list[FunctionTool], Meta(max_length=MAX_TOOLS)] | None = None  # functions the model may call
    tool_choice: ToolChoice | None = None  # None: `auto` with tools
    parallel_tool_calls: bool = True  # more than one call in one answer
    # a subject the worker asks (body: request_id) every few seconds while it runs the request; no responder,
    # or "unknown", means whoever asked is gone, and the generation is cancelled (gateways set it)
    requester_ping: Subject | None = None


class Accept(msgspec.Struct, frozen=True, tag="accept", tag_field="type"):
    """The generation was accepted; chunks follow on `infer.tokens.<request_id>`."""

    request_id: str
    worker_id: str
    prompt_tokens: int
    max_new_tokens: int


GenerateReply = Accept | ErrorMessage


class FinishReason(StrEnum):
    STOP = "stop"  # the model ended its answer
    LENGTH = "length"  # max_new_tokens reached
    STOP_STRING = "stop_string"  # one of the request's stop strings appeared
    TOOL_CALLS = "tool_calls"  # the model called one or more functions (the chunks' `tool_calls`)
    CANCELLED = "cancelled"  # a cancel arrived
    ERROR = "error"  # see the chunk's `error`


class Usage(msgspec.Struct, frozen=True):
    prompt_tokens: int
    completion_tokens: int


class TopLogprob(msgspec.Struct, frozen=True, omit_defaults=True):
    """One of the most likely tokens at a place: its text and natural-log probability. `bytes`: the token's
    raw bytes, given only where `token` does not spell them (a token holding part of a UTF-8 character, such
    as one of an emoji's byte tokens, reads "�"); otherwise they are `token`'s UTF-8."""

    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(msgspec.Struct, frozen=True, omit_defaults=True):
    """A chosen token's text, its log-probability, and the `top_logprobs` most likely tokens there (most
    likely first). `bytes` as in `TopLogprob`: the entries' bytes join to the answer's text."""

    token: str
    logprob: float
    top: list[TopLogprob] = msgspec.field(default_factory=list)
    bytes: list[int] | None = None


def entry_bytes(entry: TokenLogprob | TopLogprob) -> bytes:
    """A logprobs entry's token as bytes: its `bytes` where the worker gave them, else its text's UTF-8 (what
    OpenAI's `bytes` and completions' `text_offset` are built from)."""
    return bytes(entry.bytes) if entry.bytes is not None else entry.token.encode()


class TokenChunk(msgspec.Struct, frozen=True, omit_defaults=True):
    """One piece of a generation. `seq` counts from 0 with no gaps over the whole request (all its choices);
    the request's last chunk has `done`.

    `index` is the choice (0 to n-1) the piece belongs to; with n > 1 each choice's own last chunk has its
    `finish_reason` (and `done` only on the request's last, whose `usage` counts every choice). `logprobs`:
    one entry per token the piece's text came from, when the request asked. `tool_calls`: calls the model
    finished writing in this piece (each whole: name and arguments; their text is not in `token`)."""

    request_id: str
    seq: int
    token: str = ""
    done: bool = False
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    error: ErrorMessage | None = None
    index: int = 0
    logprobs: list[TokenLogprob] | None = None
    tool_calls: list[ToolCall] | None = None


class Cancel(msgspec.Struct, frozen=True):
    """Stop the generation named by the subject `infer.cancel.<request_id>`."""

    request_id: str
    reason: str = "cancelled by client"


class AnswerOwner(msgspec.Struct, frozen=True):
    """Who asked for an answer: KV `answers`, key `answer.<request_id>`, written (with KV `create`, which fails
    when the key exists) by the gateway that takes the request before any worker sees it. The write is what
    reserves a client-chosen request id across gateways; the owner is what decides who may read the answer
    back (`inferResume`)."""

    owner: str  # the asking key's id (`key-<16 hex>`, see gateway.auth.key_id); "" on a gateway without keys
    gateway: str = ""  # the instance id of the gateway that took the request
    worker_id: str = ""  # the worker that accepted it, once one did (a reader asks it whether it still runs)


class InfoRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Ask one inference worker what it serves (an empty body works too)."""


class FollowActive(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Ask every inference worker whether it follows the registry's choice of adapter up to `revision`.

    `revision`: a revision of KV `adapters` key `active` (`AdapterState.revision`). Each worker answers at
    once with its `ModelInfo`; one whose `active_revision` is below `revision` answers again once it has
    applied that revision or a later one.
    """

    revision: Annotated[int, Meta(ge=0)] = 0


class ModelInfo(msgspec.Struct, frozen=True):
    model_id: str
    device: str
    dtype: str
    load_in_4bit: bool
    context_length: int
    state: str  # "ready" or "released" (GPU lent to training)
    worker_id: str
    active_adapter: str | None = None
    active_revision: int = 0  # the revision of KV `adapters` key `active` applied (0: not read yet)
    vram_total_mb: float | None = None
    vram_used_mb: float | None = None
    vram_reserved_mb: float | None = None
    max_concurrency: int = 1
    active_generations: int = 0  # admitted: decoding + waiting
    loaded_adapters: list[str] = msgspec.field(default_factory=list)
    engine: str = "sequential"  # "batched" (continuous batching) or "sequential" (one request at a time)
    batch_size: int = 0  # requests in the decode batch now
    waiting: int = 0  # admitted requests whose prompt is not read yet (queued or being prefilled)
    kv_cache_mb: float = 0.0  # what the batch's KV cache holds now
    kv_cache_limit_mb: float | None = None  # INFERENCE_KV_CACHE_MB (batched engine)
    threads: int = 0  # torch's intra-op threads
