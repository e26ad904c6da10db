"""Messages of the inference service: generate request and reply, token chunks, cancel, model info."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .errors import ErrorMessage
from .fields import AdapterName, RequestId, Subject
from .search import SearchResult

MAX_PROMPT_CHARS = 200_000
MAX_NEW_TOKENS_LIMIT = 8192
MAX_STOP_STRINGS = 8

Role = Literal["system", "user", "assistant"]


class ChatMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One turn of a conversation."""

    role: Role
    content: Annotated[str, Meta(max_length=MAX_PROMPT_CHARS)]


class GenerationParams(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How to sample. `temperature` 0 means greedy decoding (deterministic)."""

    max_new_tokens: Annotated[int, Meta(ge=1, le=MAX_NEW_TOKENS_LIMIT)] = 256
    temperature: Annotated[float, Meta(ge=0.0, le=5.0)] = 0.0
    top_p: Annotated[float, Meta(gt=0.0, le=1.0)] = 1.0
    stop: Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(max_length=MAX_STOP_STRINGS)] = (
        msgspec.field(default_factory=list)
    )
    seed: Annotated[int, Meta(ge=0, le=2**32 - 1)] | None = None


class GenerateRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Start a generation. Give either `prompt` or `messages` (a chat), not both."""

    request_id: RequestId
    prompt: Annotated[str, Meta(max_length=MAX_PROMPT_CHARS)] | None = None
    messages: list[ChatMessage] | None = None
    params: GenerationParams = msgspec.field(default_factory=GenerationParams)
    adapter: AdapterName | None = None
    base_model: bool = False  # answer with the base model even while an adapter is active (not with `adapter`)
    sources: Annotated[list[SearchResult], Meta(max_length=10)] | None = None  # web results to ground in
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
    CANCELLED = "cancelled"  # a cancel arrived
    ERROR = "error"  # see the chunk's `error`


class Usage(msgspec.Struct, frozen=True):
    prompt_tokens: int
    completion_tokens: int


class TokenChunk(msgspec.Struct, frozen=True, omit_defaults=True):
    """One piece of a generation. `seq` counts from 0 with no gaps; the last chunk has `done`."""

    request_id: str
    seq: int
    token: str = ""
    done: bool = False
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    error: ErrorMessage | None = None


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
