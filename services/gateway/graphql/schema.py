"""The GraphQL schema: queries, mutations and subscriptions, each translated onto the clients (`clients/`) or
the generation layer (`generation.py`); errors in `errors.py`, the context and its checks in `context.py`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import ParamSpec, TypeVar

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.file_uploads import Upload
from strawberry.types import Info

from messages import (
    ChatMessage,
    DatasetInfo,
    ErrorCode,
    FineTuneSpec,
    GenerationParams,
    JobState,
    SwitchboardError,
)

from ..clients.adapter_switch import Superseded, switch
from ..error_fields import graphql_argument, graphql_message
from ..generation import Ask, Planned
from ..http.metrics import OperationMetrics
from .arguments import argument_names, takes
from .context import Context, authenticated, note_refusal, require_admin
from .dataset_types import Dataset, DatasetResult
from .errors import Schema, typed_errors, user_error
from .event_plan import PlannedEventExecutor
from .fine_tune_types import FineTuneJob, FineTuneProgress, FineTuneResult, FineTuneStatus
from .inputs import FineTuneArgs, GenerationArgs
from .selection import selects
from .types import (
    Access,
    AdapterInfo,
    AdapterResult,
    AdaptersInfo,
    BaseModelResult,
    ChunkStage,
    InferenceResult,
    ModelInfo,
    Source,
    TokenChunk,
    Usage,
    WebSearchResult,
    given_fields,
)

log = logging.getLogger("switchboard.gateway")
P = ParamSpec("P")
R = TypeVar("R")


def ask_of(ctx: Context, args: GenerationArgs) -> Ask:
    """`infer`/`inferStream`'s arguments as the generation layer's request: `messages` are the earlier turns,
    `prompt` the new user turn."""
    return Ask(
        params=GenerationParams(**given_fields(args, GenerationParams)),
        prompt=args.prompt,
        messages=[ChatMessage(role=m.role.value, content=m.content) for m in args.messages] if args.messages else None,
        adapter=args.adapter,
        base_model=bool(args.base_model),
        web_search=bool(args.web_search),
        request_id=args.request_id,
        owner=ctx.key_id,
    )


async def _on_job(
    info: Info[Context, None], what: str, action: Callable[[str], Awaitable[object]], job_id: str
) -> FineTuneResult:
    """Do `action` to a job; a refusal is the result's error, as for every fine-tune mutation."""
    try:
        require_admin(info, what)
        await action(job_id)
    except SwitchboardError as exc:
        note_refusal(info, exc)
        return FineTuneResult(ok=False, error=graphql_message(exc), job_id=job_id, error_code=exc.code.value.upper())
    return FineTuneResult(ok=True, error=None, job_id=job_id)


_DATASET_ARGUMENTS = frozenset({"name", "file"})


async def _on_dataset(
    info: Info[Context, None], what: str, call: Callable[[], Awaitable[DatasetInfo]]
) -> DatasetResult:
    try:
        require_admin(info, what)
        stored = await call()
    except SwitchboardError as exc:
        note_refusal(info, exc)
        argument = exc.field if exc.field in _DATASET_ARGUMENTS else None
        message = f"`{argument}` {exc.message}" if argument else graphql_message(exc)
        if exc.code is ErrorCode.NOT_FOUND and argument == "name":
            message += "; `datasets` lists them"
        return DatasetResult(ok=False, error=message, error_code=exc.code.value.upper(), error_field=argument)
    return DatasetResult(ok=True, dataset=Dataset.of(stored))


_FINE_TUNE_ARGUMENTS = argument_names(FineTuneArgs)


def _argument_of(exc: SwitchboardError, arguments: frozenset[str]) -> str | None:
    """The argument among `arguments` that `exc` is about, or None (also when it is about a field the caller
    does not set, such as the job id the gateway makes)."""
    argument = graphql_argument(exc.field)
    return argument if argument in arguments else None


@strawberry.type
class Query:
    @strawberry.field(description="'ok' while the gateway is connected to NATS")
    def health(self, info: Info[Context, None]) -> str:
        return "ok" if info.context.clients.nc.is_connected else "degraded: NATS disconnected"  # open: no key needed

    @strawberry.field(
        description="What the caller's API key may do: role `admin` (everything) or `user` (chat and read)"
    )
    @typed_errors
    async def access(self, info: Info[Context, None]) -> Access:
        ctx = authenticated(info)
        assert ctx.role is not None
        return Access(role=ctx.role.value, keys_required=ctx.keys_required)

    @strawberry.field(description="The model an inference worker serves")
    @typed_errors
    async def model_info(self, info: Info[Context, None]) -> ModelInfo:
        return ModelInfo.of(await authenticated(info).clients.inference.info())

    @strawberry.field(description="Saved LoRA adapters and the active one (null: the base model)")
    @typed_errors
    async def adapters(self, info: Info[Context, None]) -> AdaptersInfo:
        listed = await authenticated(info).clients.adapters.list()
        return AdaptersInfo(
            available=[a.name for a in listed.adapters],
            active=listed.active,
            adapters=[AdapterInfo.of(a) for a in listed.adapters],
        )

    @strawberry.field(description="The latest fine-tune: the running job, else the most recent one")
    @typed_errors
    async def fine_tune_status(self, info: Info[Context, None]) -> FineTuneStatus:
        jobs = await authenticated(info).clients.training.jobs()
        queued = sum(1 for j in jobs if j.state is JobState.QUEUED)
        current = next((j for j in jobs if j.state is JobState.RUNNING), jobs[0] if jobs else None)
        if current is None:
            return FineTuneStatus(
                running=False, step=0, total_steps=0, loss=None, error=None, completed_adapter=None, queued=queued
            )
        return FineTuneStatus(
            running=current.state is JobState.RUNNING,
            step=current.step,
            total_steps=current.total_steps or 0,
            loss=current.loss_history[-1] if current.loss_history else None,
            error=current.error,
            completed_adapter=current.adapter if current.state is JobState.SUCCEEDED else None,
            job_id=current.spec.job_id,
            state=current.state.value,
            queued=queued,
        )

    @strawberry.field(description="Every fine-tune job, newest first, with its loss curve")
    @typed_errors
    async def fine_tune_jobs(self, info: Info[Context, None]) -> list[FineTuneJob]:
        return [FineTuneJob.of(job) for job in await authenticated(info).clients.training.jobs()]

    @strawberry.field(description="Every uploaded dataset, by name")
    @typed_errors
    async def datasets(self, info: Info[Context, None]) -> list[Dataset]:
        return [Dataset.of(d) for d in await authenticated(info).clients.datasets.all()]

    @strawberry.field(description="One uploaded dataset, with its first rows; null when there is none")
    @typed_errors
    async def dataset(self, info: Info[Context, None], name: str) -> Dataset | None:
        found = await authenticated(info).clients.datasets.get(name)
        return None if found is None else Dataset.of(found)

    @strawberry.field(description="Search the web (DuckDuckGo through the search service); raw results")
    @typed_errors
    async def web_search(
        self, info: Info[Context, None], query: str, max_results: int | None = None
    ) -> list[WebSearchResult]:
        found = await authenticated(info).clients.search.search(query, max_results)
        return [WebSearchResult(title=r.title, url=r.url, snippet=r.snippet) for r in found.results]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Generate a whole answer")
    @typed_errors
    @takes(GenerationArgs)
    async def infer(self, info: Info[Context, None], args: GenerationArgs) -> InferenceResult:
        ctx = authenticated(info)
        planned = await ctx.generations.prepare(ask_of(ctx, args))
        whole = await ctx.generations.whole(planned)
        assert whole.last.finish_reason is not None
        return InferenceResult(
            text=whole.text,
            request_id=planned.request_id,
            finish_reason=whole.last.finish_reason.value,
            usage=Usage.of(whole.last.usage),
            sources=Source.all_of(planned.grounding.results),
            search_notice=planned.grounding.notice,
        )

    @strawberry.mutation(description="Train a LoRA adapter; jobs run one at a time, later ones wait in order")
    @takes(FineTuneArgs)
    async def start_fine_tune(self, info: Info[Context, None], args: FineTuneArgs) -> FineTuneResult:
        try:
            require_admin(info, "startFineTune")
            spec = FineTuneSpec(job_id=uuid.uuid4().hex, **given_fields(args, FineTuneSpec, dataset="dataset_name"))
            record = await authenticated(info).clients.training.submit(spec)
        except SwitchboardError as exc:
            note_refusal(info, exc)
            return FineTuneResult(
                ok=False,
                error=graphql_message(exc),
                error_code=exc.code.value.upper(),
                error_field=_argument_of(exc, _FINE_TUNE_ARGUMENTS),
            )
        return FineTuneResult(ok=True, error=None, job_id=record.spec.job_id, queue_position=record.queue_position)

    @strawberry.mutation(
        description="Upload training data (JSON Lines or a JSON array; chat, ShareGPT, prompt/completion or Alpaca "
        "rows), sent as a GraphQL multipart request; every row is checked before it is stored"
    )
    async def upload_dataset(self, info: Info[Context, None], name: str, file: Upload) -> DatasetResult:
        async def upload() -> DatasetInfo:
            data = file.read() if hasattr(file, "read") else bytes(file)
            return await authenticated(info).clients.datasets.upload(name, data)

        return await _on_dataset(info, "uploadDataset", upload)

    @strawberry.mutation(description="Remove an uploaded dataset (refused while a queued or running job reads it)")
    async def delete_dataset(self, info: Info[Context, None], name: str) -> DatasetResult:
        return await _on_dataset(info, "deleteDataset", lambda: authenticated(info).clients.datasets.delete(name))

    @strawberry.mutation(description="Stop a running fine-tune, or drop a queued one")
    async def cancel_fine_tune(self, info: Info[Context, None], job_id: str) -> FineTuneResult:
        return await _on_job(info, "cancelFineTune", authenticated(info).clients.training.cancel, job_id)

    @strawberry.mutation(
        description="Remove a finished fine-tune (succeeded, failed or cancelled) from the history; its adapter stays"
    )
    async def delete_fine_tune_job(self, info: Info[Context, None], job_id: str) -> FineTuneResult:
        return await _on_job(info, "deleteFineTuneJob", authenticated(info).clients.training.forget, job_id)

    @strawberry.mutation(
        description="Make a saved adapter the default of every inference worker, without a restart; returns once "
        "every worker serves it. When another switch (loadAdapter, useBaseModel, deleting the active adapter) "
        "replaced it before that: ok false, errorCode CONFLICT, activeAdapter the one active now"
    )
    async def load_adapter(self, info: Info[Context, None], adapter_name: str) -> AdapterResult:
        ctx = authenticated(info)
        try:
            require_admin(info, "loadAdapter")
            active = await switch(
                ctx.clients.nc, ctx.clients.adapters, lambda: ctx.clients.adapters.activate(adapter_name)
            )
        except SwitchboardError as exc:
            note_refusal(info, exc)
            return AdapterResult(
                ok=False, error=graphql_message(exc), active_adapter=_active_now(exc), error_code=exc.code.value.upper()
            )
        return AdapterResult(ok=True, error=None, active_adapter=active)

    @strawberry.mutation(
        description="Back to the base model (no adapter); returns once every inference worker serves it. When "
        "another switch replaced it before that: ok false, errorCode CONFLICT, activeAdapter the one active now"
    )
    async def use_base_model(self, info: Info[Context, None]) -> BaseModelResult:
        ctx = authenticated(info)
        try:
            require_admin(info, "useBaseModel")
            active = await switch(ctx.clients.nc, ctx.clients.adapters, ctx.clients.adapters.deactivate)
        except SwitchboardError as exc:
            note_refusal(info, exc)
            return BaseModelResult(
                ok=False, active_adapter=_active_now(exc), error=graphql_message(exc), error_code=exc.code.value.upper()
            )
        return BaseModelResult(ok=True, active_adapter=active)

    @strawberry.mutation(
        description="Delete a saved adapter and its files; deleting the active one reverts to the base"
    )
    async def delete_adapter(self, info: Info[Context, None], adapter_name: str) -> AdapterResult:
        ctx = authenticated(info)
        try:
            require_admin(info, "deleteAdapter")
            active = await ctx.clients.adapters.delete(adapter_name)
        except SwitchboardError as exc:
            note_refusal(info, exc)
            return AdapterResult(
                ok=False, error=graphql_message(exc), active_adapter=None, error_code=exc.code.value.upper()
            )
        return AdapterResult(ok=True, error=None, active_adapter=active)


def _active_now(exc: SwitchboardError) -> str | None:
    """The adapter a refused switch reports active: the one that superseded it, else none (unknown)."""
    return exc.active if isinstance(exc, Superseded) else None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Stream an answer token by token; completing the subscription cancels it. A connection that "
        "drops instead leaves the answer running for GATEWAY_RESUME_GRACE_S: inferResume picks it up by requestId"
    )
    @takes(GenerationArgs)
    async def infer_stream(self, info: Info[Context, None], args: GenerationArgs) -> AsyncGenerator[TokenChunk, None]:
        ctx = authenticated(info)
        ask = ask_of(ctx, args)
        try:  # refused now, as the worker would refuse it, before any progress event says otherwise
            request_id = await ctx.generations.reserve(ask)
        except SwitchboardError as exc:
            raise user_error(exc) from exc
        stages = selects(info, "stage")
        if stages and ask.web_search:
            yield TokenChunk.progress(ChunkStage.SEARCHING, request_id)
        grounding = await ctx.generations.ground(ask)  # never raises: failure is a notice
        sources = Source.all_of(grounding.results) if ask.web_search else None
        if stages:
            event = TokenChunk.progress(ChunkStage.GENERATING, request_id)
            event.sources, event.search_notice = sources, grounding.notice
            yield event
        planned = Planned(ask.request(request_id, grounding), grounding)
        stream = ctx.generations.stream(planned, ctx.may_resume)
        first = True
        try:
            async for chunk in stream:
                out = TokenChunk.of(chunk)
                if first and ask.web_search:
                    out.sources, out.search_notice = sources, grounding.notice
                first = False
                yield out
        except SwitchboardError as exc:
            raise user_error(exc) from exc
        finally:
            await stream.aclose()

    @strawberry.subscription(
        description="Pick an answer up again by its requestId (after a reload or a dropped connection): its chunks "
        "from seq `fromSeq` on, read back from stream TOKENS, then live until the last. NOT_FOUND when the id is "
        "unknown or expired (TOKENS_MAX_AGE_S)"
    )
    async def infer_resume(
        self, info: Info[Context, None], request_id: str, from_seq: int = 0
    ) -> AsyncGenerator[TokenChunk, None]:
        ctx = authenticated(info)
        if from_seq < 0:
            raise user_error(SwitchboardError(ErrorCode.BAD_REQUEST, "must be 0 or more", "from_seq"))
        stream = ctx.clients.inference.resume(request_id, from_seq, ctx.may_resume, ctx.reader)
        try:
            async for chunk in stream:
                yield TokenChunk.of(chunk)
        except SwitchboardError as exc:
            raise user_error(exc) from exc
        finally:
            await stream.aclose()

    @strawberry.subscription(
        description="A fine-tune's progress: its current state first (a reloaded page picks up where it was), "
        "then every step until it ends"
    )
    async def fine_tune_progress(
        self, info: Info[Context, None], job_id: str
    ) -> AsyncGenerator[FineTuneProgress, None]:
        ctx = authenticated(info)
        updates = ctx.clients.training.progress(job_id)
        try:
            async for update in updates:
                yield FineTuneProgress.of(update)
        except SwitchboardError as exc:
            raise user_error(exc) from exc
        finally:
            await updates.aclose()


DOCUMENT_CACHE_SIZE = 256  # distinct query texts whose parse and validation are kept (LRU, per process)

# events of a plain `inferStream` selection are projected by a plan, not executed one by one (event_plan.py);
# an app sends the same few documents again and again: parsing and validating one cost ~10 ms here (py-spy)
schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    execution_context_class=PlannedEventExecutor,
    extensions=[
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        OperationMetrics,
    ],
)
