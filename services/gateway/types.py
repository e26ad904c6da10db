"""GraphQL object and input types (the seed's names, extended only with optional fields)."""

from __future__ import annotations

from enum import Enum

import strawberry

from messages import AdapterMeta, JobRecord, Progress, SearchResult
from messages import ModelInfo as ModelInfoMessage
from messages import TokenChunk as TokenChunkMessage
from messages import Usage as UsageMessage


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
        return (
            None if usage is None else cls(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)
        )


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

    @classmethod
    def of(cls, chunk: TokenChunkMessage) -> TokenChunk:
        return cls(
            token=chunk.token,
            done=chunk.done,
            request_id=chunk.request_id,
            seq=chunk.seq,
            finish_reason=None if chunk.finish_reason is None else chunk.finish_reason.value,
            usage=Usage.of(chunk.usage),
        )


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
        return cls(
            model_id=info.model_id,
            device=info.device,
            dtype=info.dtype,
            load_in_4bit=info.load_in_4bit,
            context_length=info.context_length,
            state=info.state,
            worker_id=info.worker_id,
            active_adapter=info.active_adapter,
            vram_total_mb=info.vram_total_mb,
            vram_used_mb=info.vram_used_mb,
            vram_reserved_mb=info.vram_reserved_mb,
            max_concurrency=info.max_concurrency,
            active_generations=info.active_generations,
            engine=info.engine,
            batch_size=info.batch_size,
            waiting=info.waiting,
            kv_cache_mb=info.kv_cache_mb,
            kv_cache_limit_mb=info.kv_cache_limit_mb,
            threads=info.threads,
            loaded_adapters=info.loaded_adapters,
        )


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
        return cls(
            name=meta.name,
            base_model=meta.base_model,
            created=meta.created,
            dataset=meta.dataset,
            steps=meta.steps,
            final_loss=meta.final_loss,
            size_bytes=meta.size_bytes,
            job_id=meta.job_id,
            lora_r=meta.lora_r,
            lora_alpha=meta.lora_alpha,
        )


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

    @classmethod
    def of(cls, record: JobRecord) -> FineTuneJob:
        spec = record.spec
        return cls(
            job_id=spec.job_id,
            adapter_name=spec.adapter_name,
            dataset=spec.dataset,
            state=record.state.value,
            step=record.step,
            total_steps=record.total_steps,
            loss_history=list(record.loss_history),
            final_loss=record.loss_history[-1] if record.loss_history else None,
            error=record.error,
            adapter=record.adapter,
            queue_position=record.queue_position,
            created=record.created,
            started=record.started,
            finished=record.finished,
            device=record.device,
            num_samples=spec.num_samples,
            num_epochs=spec.num_epochs,
            learning_rate=spec.learning_rate,
            lora_r=spec.lora_r,
            lora_alpha=spec.lora_alpha,
        )


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

    @classmethod
    def of(cls, progress: Progress) -> FineTuneProgress:
        return cls(
            job_id=progress.job_id,
            state=progress.state.value,
            step=progress.step,
            total_steps=progress.total_steps,
            loss=progress.loss,
            queue_position=progress.queue_position,
            error=progress.error,
            adapter=progress.adapter,
        )


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
        "numEpochs, learningRate, loraR, loraAlpha, maxSteps), null when it is about none",
    )
