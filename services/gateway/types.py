"""GraphQL object and input types (the seed's names, extended only with optional fields), the argument
lists several fields share, and the one conversion from a message struct to a GraphQL type."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, TypeVar

import msgspec
import strawberry

from messages import AdapterMeta, JobRecord, Progress, SearchResult
from messages import EvalPoint as EvalPointMessage
from messages import ModelInfo as ModelInfoMessage
from messages import TokenChunk as TokenChunkMessage
from messages import Usage as UsageMessage
from messages.inference import MAX_NEW_TOKENS_LIMIT, MAX_PROMPT_CHARS, MAX_STOP_STRINGS
from messages.training import (
    BUNDLED_DATASET,
    MAX_EPOCHS,
    MAX_LORA_ALPHA,
    MAX_LORA_R,
    MAX_SAMPLES,
    MAX_STEPS_LIMIT,
    MAX_VALIDATION_FRACTION,
)

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


@strawberry.input(description="An earlier turn of the conversation")
class ChatMessageInput:
    role: ChatRole
    content: str


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
    finish_reason: str | None = None
    usage: Usage | None = None
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
        return from_message(cls, chunk, usage=Usage.of(chunk.usage))

    @classmethod
    def progress(cls, stage: ChunkStage, request_id: str) -> TokenChunk:
        """A progress event (no token, `seq` -1) of generation `request_id`."""
        return cls(token="", done=False, request_id=request_id, seq=-1, stage=stage)


@strawberry.type(description="A whole answer")
class InferenceResult:
    text: str
    request_id: str
    finish_reason: str
    usage: Usage | None
    sources: list[Source] = strawberry.field(description="With webSearch: the pages the answer is grounded in")
    search_notice: str | None = strawberry.field(description="With webSearch: why the answer is not grounded")


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


@strawberry.type(description="The latest fine-tune (the running one, else the most recent)")
class FineTuneStatus:
    running: bool
    step: int
    total_steps: int
    loss: float | None
    error: str | None
    completed_adapter: str | None
    job_id: str | None = None
    state: str | None = None
    queued: int = 0


STAGE_DESCRIPTION = (
    "What a running job is doing: loading_data, loading_model, training or saving; null before it starts, "
    "once it ended, and for jobs recorded before stages existed"
)


@strawberry.type(description="One fine-tune job with its loss curve")
class FineTuneJob:
    job_id: str
    adapter_name: str
    dataset: str
    state: str
    step: int
    total_steps: int | None
    loss_history: list[float]
    final_loss: float | None
    error: str | None
    adapter: str | None
    queue_position: int | None
    created: str
    started: str | None
    finished: str | None
    device: str | None
    num_samples: int | None
    num_epochs: float
    learning_rate: float
    lora_r: int
    lora_alpha: int
    max_steps: int | None = strawberry.field(default=None, description="The cap on optimizer steps it was given")
    stage: str | None = strawberry.field(default=None, description=STAGE_DESCRIPTION)
    validation_dataset: str | None = None
    validation_fraction: float | None = None
    eval_every_steps: int | None = None
    early_stopping_patience: int | None = None
    checkpoint_every_steps: int | None = None
    eval_history: list[EvalPoint] = strawberry.field(
        default_factory=list, description="The held-out loss: step 0 (the base model), then each evaluation"
    )
    best_step: int | None = strawberry.field(
        default=None, description="With early stopping: the step whose adapter was kept (lowest held-out loss)"
    )
    data_format: str | None = strawberry.field(default=None, description="chat, sharegpt, prompt_completion, alpaca")
    train_rows: int | None = None
    validation_rows: int | None = None
    truncated_rows: int = strawberry.field(default=0, description="Rows cut to TRAIN_MAX_LENGTH tokens")
    dropped_rows: int = strawberry.field(
        default=0, description="Rows left out: too long (TRAIN_OVERLONG=drop), or nothing left to learn once cut"
    )
    held_out_prompts: list[str] = strawberry.field(
        default_factory=list, description="Up to 8 questions of the held-out rows, to compare answers on"
    )
    checkpoint_step: int | None = strawberry.field(default=None, description="The step of the last checkpoint")
    resumed_from_step: int | None = strawberry.field(
        default=None, description="Set when the job was taken up again from a checkpoint after its worker died"
    )
    resumes: int = 0

    @classmethod
    def of(cls, record: JobRecord) -> FineTuneJob:
        return from_message(
            cls,
            record,
            record.spec,
            loss_history=list(record.loss_history),
            final_loss=record.loss_history[-1] if record.loss_history else None,
            eval_history=EvalPoint.all_of(record.eval_history),
            held_out_prompts=list(record.held_out_prompts),
        )


@strawberry.type(description="The held-out loss at a step (step 0: the base model)")
class EvalPoint:
    step: int
    loss: float

    @classmethod
    def all_of(cls, points: list[EvalPointMessage]) -> list[EvalPoint]:
        return [cls(step=p.step, loss=p.loss) for p in points]


@strawberry.type(description="A step of a fine-tune, or a change of its state")
class FineTuneProgress:
    job_id: str
    state: str
    step: int
    total_steps: int | None
    loss: float | None
    queue_position: int | None
    error: str | None
    adapter: str | None
    stage: str | None = strawberry.field(default=None, description=STAGE_DESCRIPTION)
    eval_loss: float | None = strawberry.field(default=None, description="Set on the steps where an evaluation ran")
    best_step: int | None = None

    @classmethod
    def of(cls, progress: Progress) -> FineTuneProgress:
        return from_message(cls, progress)


@strawberry.type(description="The outcome of startFineTune / cancelFineTune")
class FineTuneResult:
    ok: bool
    error: str | None
    job_id: str | None = None
    queue_position: int | None = None
    error_code: str | None = None
    error_field: str | None = strawberry.field(
        default=None,
        description="startFineTune: the argument the error is about (adapterName, datasetName, numSamples, "
        "numEpochs, learningRate, loraR, loraAlpha, maxSteps, validationDataset, validationFraction, evalEverySteps, "
        "earlyStoppingPatience, checkpointEverySteps), null when it is about none",
    )


def _described(description: str) -> Any:
    return strawberry.argument(description=description)


@dataclass(frozen=True)
class GenerationArgs:
    """The arguments of `infer` and `inferStream` (one definition; see `arguments.takes`)."""

    prompt: Annotated[str, _described(f"The new user message (up to {MAX_PROMPT_CHARS:,} characters)")]
    web_search: Annotated[
        bool | None, _described("Ground the answer in a web search for `prompt`; the pages come back as sources")
    ] = False
    messages: Annotated[
        list[ChatMessageInput] | None, _described("The earlier turns of the conversation, oldest first")
    ] = None
    max_new_tokens: Annotated[
        int | None, _described(f"Most tokens to generate, 1 to {MAX_NEW_TOKENS_LIMIT} (default 256)")
    ] = None
    temperature: Annotated[float | None, _described("0 (greedy, the default) to 5")] = None
    top_p: Annotated[float | None, _described("Nucleus sampling, greater than 0 and at most 1 (default 1)")] = None
    stop: Annotated[
        list[str] | None,
        _described(f"Up to {MAX_STOP_STRINGS} strings of 1 to 64 characters; the answer ends before the first"),
    ] = None
    seed: Annotated[
        int | None,
        _described("Makes sampling repeatable: 0 to 2147483647 (GraphQL's Int; the OpenAI API takes up to 4294967295)"),
    ] = None
    adapter: Annotated[
        str | None, _described("Answer with this saved adapter instead of the active one (this request only)")
    ] = None
    base_model: Annotated[
        bool | None, _described("Answer with the base model even when an adapter is active (this request only)")
    ] = False
    request_id: Annotated[
        str | None,
        _described(
            "Your own id for this answer (1 to 64 letters, digits, - and _, not used before): a client that keeps it "
            "before sending can pick the answer up with inferResume even if it reloads before the first event. "
            "Default: a new random id"
        ),
    ] = None


@dataclass(frozen=True)
class FineTuneArgs:
    """The arguments of `startFineTune`."""

    adapter_name: Annotated[str, _described("The adapter to create: letters, digits, '.', '_', '-'; 1 to 64")]
    dataset_name: Annotated[
        str | None,
        _described(f"'{BUNDLED_DATASET}' (default), a .json/.jsonl file in DATASET_DIR, or a Hugging Face dataset id"),
    ] = None
    num_samples: Annotated[int | None, _described(f"Rows to train on, 1 to {MAX_SAMPLES:,} (default: all)")] = None
    num_epochs: Annotated[float | None, _described(f"Passes over the rows, up to {MAX_EPOCHS:g} (default 1)")] = None
    learning_rate: Annotated[float | None, _described("Greater than 0, at most 1 (default 0.0002)")] = None
    lora_r: Annotated[int | None, _described(f"LoRA rank, 1 to {MAX_LORA_R} (default 8)")] = None
    lora_alpha: Annotated[int | None, _described(f"LoRA alpha, 1 to {MAX_LORA_ALPHA} (default 16)")] = None
    max_steps: Annotated[
        int | None, _described(f"Stop after this many optimizer steps, 1 to {MAX_STEPS_LIMIT:,} (default: no cap)")
    ] = None
    validation_dataset: Annotated[
        str | None, _described("Held-out rows from a dataset of their own (instead of validationFraction)")
    ] = None
    validation_fraction: Annotated[
        float | None,
        _described(
            f"Rows of the data held out for evaluation, 0 to {MAX_VALIDATION_FRACTION:g} "
            "(default 0.1 from 50 rows on, else 0)"
        ),
    ] = None
    eval_every_steps: Annotated[
        int | None, _described("Evaluate on the held-out rows every this many steps (default: about 10 times)")
    ] = None
    early_stopping_patience: Annotated[
        int | None,
        _described("Stop after this many evaluations without a lower held-out loss, keeping the best adapter"),
    ] = None
    checkpoint_every_steps: Annotated[
        int | None, _described("Save a checkpoint to resume from every this many steps (default: about every 2 min)")
    ] = None
