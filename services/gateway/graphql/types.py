"""GraphQL object and input types for answers, models and adapters (the original spec's names, extended only
with optional fields), and the one conversion from a message struct to a GraphQL type (`from_message`)."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

import msgspec
import strawberry

from messages import AdapterMeta, SearchResult
from messages import ModelInfo as ModelInfoMessage
from messages import TokenChunk as TokenChunkMessage
from messages import Usage as UsageMessage
from messages.inference import TokenLogprob as TokenLogprobMessage
from messages.inference import ToolCall as ToolCallMessage
from messages.inference import entry_bytes

T = TypeVar("T")


def from_message(kind: type[T], *messages: msgspec.Struct, **given: Any) -> T:
    """The GraphQL object `kind` built from `messages`: each field of `kind` not in `given` takes the value of
    the first message's field of the same name (an enum as its value). Raises TypeError when `kind` has a
    field without a default that neither a message nor `given` has."""
    values = dict(given)
    for field in kind.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        name = field.python_name
        source = next((m for m in messages if hasattr(m, name)), None)
        if name not in values and source is not None:
            values[name] = _plain(getattr(source, name))
    return kind(**values)


def given_fields(args: object, kind: type[msgspec.Struct], **renamed: str) -> dict[str, Any]:
    """The fields of message `kind` that the caller set in `args` (None: left out, so `kind`'s default
    applies), each read from the attribute of the same name or from `renamed[field]`."""
    given = {name: getattr(args, renamed.get(name, name), None) for name in kind.__struct_fields__}
    return {name: value for name, value in given.items() if value is not None}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@strawberry.enum(description="Who wrote a chat turn")
class ChatRole(Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@strawberry.input(description="A call of a function an earlier assistant turn made")
class ToolCallInput:
    id: str
    name: str
    arguments: str = strawberry.field(description="The call's arguments: a JSON object as text")


@strawberry.input(
    description="An earlier turn of the conversation: an ASSISTANT turn may carry the toolCalls it made, a TOOL "
    "turn is the result of the call named by toolCallId"
)
class ChatMessageInput:
    role: ChatRole
    content: str = ""
    tool_calls: list[ToolCallInput] | None = None
    tool_call_id: str | None = None


@strawberry.type(description="A call of one of the request's tools, as the model wrote it")
class ToolCall:
    id: str
    name: str
    arguments: str = strawberry.field(description="The call's arguments: a JSON object as text")

    @classmethod
    def all_of(cls, calls: list[ToolCallMessage] | None) -> list[ToolCall] | None:
        return None if calls is None else [cls(id=c.id, name=c.name, arguments=c.arguments) for c in calls]


_BYTES = (
    "The token's raw bytes (UTF-8; a token holding part of a character, such as one of an emoji's byte tokens, "
    'reads "\ufffd" as `token`, and its bytes are its part): the bytes of a text\'s tokens join to the text'
)


@strawberry.type(description="One of the most likely tokens at a place")
class TopLogprob:
    token: str
    logprob: float
    bytes: list[int] = strawberry.field(description=_BYTES)


@strawberry.type(
    description="A chosen token and its log-probability under the model's own distribution (before temperature "
    "and top-p; with a constraint, the masked one), with the topLogprobs most likely tokens there"
)
class TokenLogprob:
    token: str
    logprob: float
    top: list[TopLogprob]
    bytes: list[int] = strawberry.field(description=_BYTES)

    @classmethod
    def all_of(cls, logprobs: list[TokenLogprobMessage] | None) -> list[TokenLogprob] | None:
        if logprobs is None:
            return None
        return [
            cls(
                token=lp.token,
                logprob=lp.logprob,
                top=[TopLogprob(token=t.token, logprob=t.logprob, bytes=list(entry_bytes(t))) for t in lp.top],
                bytes=list(entry_bytes(lp)),
            )
            for lp in logprobs
        ]


@strawberry.type
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @classmethod
    def of(cls, usage: UsageMessage | None) -> Usage | None:
        return None if usage is None else from_message(cls, usage)


@strawberry.type(description="A web page an answer was grounded in")
class Source:
    title: str
    url: str

    @classmethod
    def all_of(cls, results: list[SearchResult]) -> list[Source]:
        return [cls(title=r.title, url=r.url) for r in results]


@strawberry.type(description="One web search result")
class WebSearchResult:
    title: str
    url: str
    snippet: str


@strawberry.enum(description="Where an answer is, before its first token")
class ChunkStage(Enum):
    SEARCHING = "searching"
    GENERATING = "generating"


@strawberry.type(
    description="One streamed piece of an answer: one token, or several joined in order when the client fell "
    "behind; `seq` is that of the last one (it may jump by more than one, never backwards)"
)
class TokenChunk:
    token: str
    done: bool
    request_id: str
    seq: int
    finish_reason: str | None = strawberry.field(
        default=None, description="On each choice's last chunk (with n > 1 the answer's last has done too)"
    )
    usage: Usage | None = None
    index: int = strawberry.field(default=0, description="The choice this piece belongs to, 0 to n-1")
    logprobs: list[TokenLogprob] | None = strawberry.field(
        default=None, description="One per token of this piece's text; selecting it asks the worker for them"
    )
    tool_calls: list[ToolCall] | None = strawberry.field(
        default=None, description="Calls the model finished in this piece (their text is not in `token`)"
    )
    sources: list[Source] | None = strawberry.field(
        default=None, description="With webSearch: the pages the answer is grounded in (first chunk only)"
    )
    search_notice: str | None = strawberry.field(
        default=None, description="With webSearch: why the answer is not grounded, if it is not (first chunk only)"
    )
    stage: ChunkStage | None = strawberry.field(
        default=None,
        description="Set on the progress events inferStream sends before the tokens when this field is selected: "
        "SEARCHING (webSearch runs), then GENERATING (the request goes to a worker; with webSearch, with the "
        "sources). They carry no token and seq -1, and are not kept for inferResume",
    )

    @classmethod
    def of(cls, chunk: TokenChunkMessage) -> TokenChunk:
        return from_message(
            cls,
            chunk,
            usage=Usage.of(chunk.usage),
            logprobs=TokenLogprob.all_of(chunk.logprobs),
            tool_calls=ToolCall.all_of(chunk.tool_calls),
        )

    @classmethod
    def progress(cls, stage: ChunkStage, request_id: str) -> TokenChunk:
        """A progress event (no token, `seq` -1) of generation `request_id`."""
        return cls(token="", done=False, request_id=request_id, seq=-1, stage=stage)


@strawberry.type(description="One of the n answers to a prompt")
class InferenceChoice:
    index: int
    text: str
    finish_reason: str
    tool_calls: list[ToolCall]
    logprobs: list[TokenLogprob] | None = strawberry.field(description="Selecting it asks the worker for them")


@strawberry.type(
    description="A whole answer; with n > 1, `text`, `finishReason`, `toolCalls` and `logprobs` are choice 0's"
)
class InferenceResult:
    text: str
    request_id: str
    finish_reason: str
    usage: Usage | None
    sources: list[Source] = strawberry.field(description="With webSearch: the pages the answer is grounded in")
    search_notice: str | None = strawberry.field(description="With webSearch: why the answer is not grounded")
    tool_calls: list[ToolCall] = strawberry.field(default_factory=list, description="The calls the model made")
    logprobs: list[TokenLogprob] | None = strawberry.field(
        default=None, description="One per token of `text`; selecting it asks the worker for them"
    )
    choices: list[InferenceChoice] = strawberry.field(
        default_factory=list, description="Every choice, by index (one unless n > 1)"
    )


@strawberry.type(description="What an inference worker serves")
class ModelInfo:
    model_id: str
    device: str
    dtype: str
    load_in_4bit: bool
    context_length: int
    state: str
    worker_id: str
    active_adapter: str | None
    vram_total_mb: float | None
    vram_used_mb: float | None
    vram_reserved_mb: float | None
    max_concurrency: int
    active_generations: int
    engine: str = strawberry.field(description="batched (continuous batching) or sequential (one at a time)")
    batch_size: int = strawberry.field(description="Requests in the worker's decode batch now")
    waiting: int = strawberry.field(description="Admitted requests whose prompt is not read yet")
    kv_cache_mb: float = strawberry.field(description="MiB the batch's KV cache holds now")
    kv_cache_limit_mb: float | None = strawberry.field(description="INFERENCE_KV_CACHE_MB (batched engine)")
    threads: int = strawberry.field(description="torch's intra-op threads on the worker")
    loaded_adapters: list[str] = strawberry.field(description="Adapters applied on this worker now (LRU order)")

    @classmethod
    def of(cls, info: ModelInfoMessage) -> ModelInfo:
        return from_message(cls, info)


@strawberry.type(description="A saved LoRA adapter")
class AdapterInfo:
    name: str
    base_model: str
    created: str
    dataset: str
    steps: int
    final_loss: float | None
    size_bytes: int
    job_id: str | None
    lora_r: int | None
    lora_alpha: int | None

    @classmethod
    def of(cls, meta: AdapterMeta) -> AdapterInfo:
        return from_message(cls, meta)


@strawberry.type(description="Saved adapters and the active one (null: the base model)")
class AdaptersInfo:
    available: list[str]
    active: str | None
    adapters: list[AdapterInfo]


@strawberry.type(description="The outcome of loadAdapter / deleteAdapter")
class AdapterResult:
    ok: bool
    error: str | None
    active_adapter: str | None
    error_code: str | None = None


@strawberry.type(description="The outcome of useBaseModel")
class BaseModelResult:
    ok: bool
    active_adapter: str | None
    error: str | None = None
    error_code: str | None = None


@strawberry.type(description="What the caller's API key may do")
class Access:
    role: str = strawberry.field(description="`admin`: everything; `user`: chat and read, no changes")
    keys_required: bool = strawberry.field(description="false: the gateway has no keys, every caller is an admin")
