"""The GraphQL schema: queries, mutations and subscriptions, resolved over NATS."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import strawberry
from graphql import GraphQLError, OperationType, get_operation_ast
from nats.aio.client import Client
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.file_uploads import Upload
from strawberry.types import ExecutionContext, Info
from strawberry.types import ExecutionResult as StrawberryResult
from strawberry.types.graphql import OperationType as StrawberryOperationType

from messages import (
    ChatMessage,
    DatasetInfo,
    ErrorCode,
    FineTuneSpec,
    GenerateRequest,
    GenerationParams,
    JobState,
    SwitchboardError,
    decode,
    encode,
)
from messages import TokenChunk as ChunkMessage

from .adapter_switch import Superseded, switch
from .adapters_client import AdaptersClient
from .arguments import argument_names, takes
from .auth import Role
from .dataset_types import Dataset, DatasetResult
from .datasets_client import DatasetsClient
from .error_fields import graphql_argument, graphql_argument_at, graphql_message
from .event_plan import PlannedEventExecutor
from .inference_client import InferenceClient, check_id
from .metrics import GatewayMetrics, OperationMetrics, count_refused
from .search_client import Grounding, SearchClient
from .selection import selects
from .training_client import TrainingClient
from .types import (
    Access,
    AdapterInfo,
    AdapterResult,
    AdaptersInfo,
    BaseModelResult,
    ChunkStage,
    FineTuneArgs,
    FineTuneJob,
    FineTuneProgress,
    FineTuneResult,
    FineTuneStatus,
    GenerationArgs,
    InferenceResult,
    ModelInfo,
    Source,
    TokenChunk,
    Usage,
    WebSearchResult,
    given_fields,
)
from .websocket import completed_by_client, operation_problem, parse_document

log = logging.getLogger("switchboard.gateway")
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Context:
    """One request's (or one websocket's): the NATS clients, and the role of the caller's key."""

    nc: Client
    inference: InferenceClient
    search: SearchClient
    adapters: AdaptersClient
    training: TrainingClient
    datasets: DatasetsClient
    role: Role | None = Role.ADMIN  # None: no key (only open fields are reached)
    key_id: str = ""  # the caller's key's id (auth.key_id), "" without keys: the owner of the answers it asks for
    keys_required: bool = False
    connection_params: dict[str, object] | None = None  # a websocket's connection_init payload
    metrics: GatewayMetrics | None = None
    refused: dict[str, str] = field(default_factory=dict)  # root field -> error code it answered `ok: false` with
    websocket: bool = False  # the operation runs on a websocket (a subscription), not over HTTP

    @property
    def reader(self) -> str | None:
        """Whose answers the caller may read back: None for every one (an admin key, or no keys), else the
        answers its own key asked for."""
        return None if self.role is Role.ADMIN else self.key_id

    def may_resume(self) -> bool:
        """Whether a generation this operation leaves unfinished should wait for `inferResume`: on a websocket,
        unless the client stopped the operation itself (graphql-ws `complete`)."""
        return self.websocket and not completed_by_client()


def require_admin(info: Info[Context, None], what: str) -> None:
    """Raises SwitchboardError (FORBIDDEN) unless the caller's key is an admin key (any caller without keys)."""
    if info.context.role is not Role.ADMIN:
        raise SwitchboardError(ErrorCode.FORBIDDEN, f"{what} needs an admin key; this key may chat and read only")


def user_error(exc: SwitchboardError) -> GraphQLError:
    """`exc` as a GraphQL error: `extensions.code`, and `extensions.argument` when it is about one argument."""
    extensions: dict[str, object] = {"code": exc.code.value.upper()}
    if (argument := graphql_argument(exc.field)) is not None:
        extensions["argument"] = argument
    return GraphQLError(graphql_message(exc), extensions=extensions)


def typed_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn SwitchboardErrors into GraphQL errors with a `code` extension."""

    @wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except SwitchboardError as exc:
            raise user_error(exc) from exc

    return wrapper


def build_request(args: GenerationArgs, grounding: Grounding, request_id: str | None = None) -> GenerateRequest:
    """`args.messages` are the earlier turns; `args.prompt` is the new user turn appended to them."""
    params = GenerationParams(**given_fields(args, GenerationParams))
    common: dict[str, Any] = {
        "request_id": request_id or uuid.uuid4().hex,
        "params": params,
        "sources": list(grounding.results) or None,
        "adapter": args.adapter,
        "base_model": bool(args.base_model),
    }
    if args.messages:
        chat = [ChatMessage(role=m.role.value, content=m.content) for m in args.messages]
        chat.append(ChatMessage(role="user", content=args.prompt))
        return GenerateRequest(messages=chat, **common)
    return GenerateRequest(prompt=args.prompt, **common)


async def new_request_id(ctx: Context, args: GenerationArgs) -> str:
    """The caller's `requestId`, else a new random one, reserved as the caller's (`InferenceClient.reserve`)
    once the request is known to be one a worker takes (its arguments checked as the worker checks them):
    a request refused for its arguments never takes an id, so it cannot keep a good one from running.

    Raises:
        SwitchboardError: BAD_REQUEST for a wrong argument or an id that cannot be one, CONFLICT for an id
            already used, UNAVAILABLE when it cannot be reserved now.
    """
    if args.request_id is not None:
        check_id(args.request_id)
    decode(encode(build_request(args, Grounding([]), args.request_id)), GenerateRequest)
    return await ctx.inference.reserve(ctx.key_id, args.request_id)


async def grounding_for(ctx: Context, prompt: str, web_search: bool | None) -> Grounding:
    return await ctx.search.ground(prompt) if web_search else Grounding([])


async def _on_job(
    info: Info[Context, None], what: str, action: Callable[[str], Awaitable[object]], job_id: str
) -> FineTuneResult:
    """Do `action` to a job; a refusal is the result's error, as for every fine-tune mutation."""
    try:
        require_admin(info, what)
        await action(job_id)
    except SwitchboardError as exc:
        _note_refusal(info, exc)
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
        _note_refusal(info, exc)
        argument = exc.field if exc.field in _DATASET_ARGUMENTS else None
        message = f"`{argument}` {exc.message}" if argument else graphql_message(exc)
        if exc.code is ErrorCode.NOT_FOUND and argument == "name":
            message += "; `datasets` lists them"
        return DatasetResult(ok=False, error=message, error_code=exc.code.value.upper(), error_field=argument)
    return DatasetResult(ok=True, dataset=Dataset.of(stored))


def _note_refusal(info: Info[Context, None], exc: SwitchboardError) -> None:
    """A mutation that answers `ok: false` is counted under its error code, not as `ok`."""
    info.context.refused[info.field_name] = exc.code.value


def _ctx(info: Info[Context, None]) -> Context:
    """The request's context. Raises SwitchboardError (UNAUTHENTICATED) when the caller has no key where one
    is needed (the HTTP and websocket doors refuse such callers before; this is the last line)."""
    if info.context.role is None:
        raise SwitchboardError(ErrorCode.UNAUTHENTICATED, "this gateway needs an API key")
    return info.context


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
        return "ok" if info.context.nc.is_connected else "degraded: NATS disconnected"  # open: no key needed

    @strawberry.field(
        description="What the caller's API key may do: role `admin` (everything) or `user` (chat and read)"
    )
    @typed_errors
    async def access(self, info: Info[Context, None]) -> Access:
        ctx = _ctx(info)
        assert ctx.role is not None
        return Access(role=ctx.role.value, keys_required=ctx.keys_required)

    @strawberry.field(description="The model an inference worker serves")
    @typed_errors
    async def model_info(self, info: Info[Context, None]) -> ModelInfo:
        return ModelInfo.of(await _ctx(info).inference.info())

    @strawberry.field(description="Saved LoRA adapters and the active one (null: the base model)")
    @typed_errors
    async def adapters(self, info: Info[Context, None]) -> AdaptersInfo:
        listed = await _ctx(info).adapters.list()
        return AdaptersInfo(
            available=[a.name for a in listed.adapters],
            active=listed.active,
            adapters=[AdapterInfo.of(a) for a in listed.adapters],
        )

    @strawberry.field(description="The latest fine-tune: the running job, else the most recent one")
    @typed_errors
    async def fine_tune_status(self, info: Info[Context, None]) -> FineTuneStatus:
        jobs = await _ctx(info).training.jobs()
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
        return [FineTuneJob.of(job) for job in await _ctx(info).training.jobs()]

    @strawberry.field(description="Every uploaded dataset, by name")
    @typed_errors
    async def datasets(self, info: Info[Context, None]) -> list[Dataset]:
        return [Dataset.of(d) for d in await _ctx(info).datasets.all()]

    @strawberry.field(description="One uploaded dataset, with its first rows; null when there is none")
    @typed_errors
    async def dataset(self, info: Info[Context, None], name: str) -> Dataset | None:
        found = await _ctx(info).datasets.get(name)
        return None if found is None else Dataset.of(found)

    @strawberry.field(description="Search the web (DuckDuckGo through the search service); raw results")
    @typed_errors
    async def web_search(
        self, info: Info[Context, None], query: str, max_results: int | None = None
    ) -> list[WebSearchResult]:
        found = await _ctx(info).search.search(query, max_results)
        return [WebSearchResult(title=r.title, url=r.url, snippet=r.snippet) for r in found.results]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Generate a whole answer")
    @typed_errors
    @takes(GenerationArgs)
    async def infer(self, info: Info[Context, None], args: GenerationArgs) -> InferenceResult:
        ctx = _ctx(info)
        request_id = await new_request_id(ctx, args)
        grounding = await grounding_for(ctx, args.prompt, args.web_search)
        request = build_request(args, grounding, request_id)
        parts: list[str] = []
        last: ChunkMessage | None = None
        # closed at once when the caller leaves (not when the generator is collected): the cancel goes out now
        async with contextlib.aclosing(ctx.inference.stream(request)) as stream:  # type: ignore[type-var]
            async for chunk in stream:
                parts.append(chunk.token)
                last = chunk
        assert last is not None and last.finish_reason is not None
        return InferenceResult(
            text="".join(parts),
            request_id=request.request_id,
            finish_reason=last.finish_reason.value,
            usage=Usage.of(last.usage),
            sources=Source.all_of(grounding.results),
            search_notice=grounding.notice,
        )

    @strawberry.mutation(description="Train a LoRA adapter; jobs run one at a time, later ones wait in order")
    @takes(FineTuneArgs)
    async def start_fine_tune(self, info: Info[Context, None], args: FineTuneArgs) -> FineTuneResult:
        try:
            require_admin(info, "startFineTune")
            spec = FineTuneSpec(job_id=uuid.uuid4().hex, **given_fields(args, FineTuneSpec, dataset="dataset_name"))
            record = await _ctx(info).training.submit(spec)
        except SwitchboardError as exc:
            _note_refusal(info, exc)
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
            return await _ctx(info).datasets.upload(name, data)

        return await _on_dataset(info, "uploadDataset", upload)

    @strawberry.mutation(description="Remove an uploaded dataset (refused while a queued or running job reads it)")
    async def delete_dataset(self, info: Info[Context, None], name: str) -> DatasetResult:
        return await _on_dataset(info, "deleteDataset", lambda: _ctx(info).datasets.delete(name))

    @strawberry.mutation(description="Stop a running fine-tune, or drop a queued one")
    async def cancel_fine_tune(self, info: Info[Context, None], job_id: str) -> FineTuneResult:
        return await _on_job(info, "cancelFineTune", _ctx(info).training.cancel, job_id)

    @strawberry.mutation(
        description="Remove a finished fine-tune (succeeded, failed or cancelled) from the history; its adapter stays"
    )
    async def delete_fine_tune_job(self, info: Info[Context, None], job_id: str) -> FineTuneResult:
        return await _on_job(info, "deleteFineTuneJob", _ctx(info).training.forget, job_id)

    @strawberry.mutation(
        description="Make a saved adapter the default of every inference worker, without a restart; returns once "
        "every worker serves it. When another switch (loadAdapter, useBaseModel, deleting the active adapter) "
        "replaced it before that: ok false, errorCode CONFLICT, activeAdapter the one active now"
    )
    async def load_adapter(self, info: Info[Context, None], adapter_name: str) -> AdapterResult:
        ctx = _ctx(info)
        try:
            require_admin(info, "loadAdapter")
            active = await switch(ctx.nc, ctx.adapters, lambda: ctx.adapters.activate(adapter_name))
        except SwitchboardError as exc:
            _note_refusal(info, exc)
            return AdapterResult(
                ok=False, error=graphql_message(exc), active_adapter=_active_now(exc), error_code=exc.code.value.upper()
            )
        return AdapterResult(ok=True, error=None, active_adapter=active)

    @strawberry.mutation(
        description="Back to the base model (no adapter); returns once every inference worker serves it. When "
        "another switch replaced it before that: ok false, errorCode CONFLICT, activeAdapter the one active now"
    )
    async def use_base_model(self, info: Info[Context, None]) -> BaseModelResult:
        ctx = _ctx(info)
        try:
            require_admin(info, "useBaseModel")
            active = await switch(ctx.nc, ctx.adapters, ctx.adapters.deactivate)
        except SwitchboardError as exc:
            _note_refusal(info, exc)
            return BaseModelResult(
                ok=False, active_adapter=_active_now(exc), error=graphql_message(exc), error_code=exc.code.value.upper()
            )
        return BaseModelResult(ok=True, active_adapter=active)

    @strawberry.mutation(
        description="Delete a saved adapter and its files; deleting the active one reverts to the base"
    )
    async def delete_adapter(self, info: Info[Context, None], adapter_name: str) -> AdapterResult:
        ctx = _ctx(info)
        try:
            require_admin(info, "deleteAdapter")
            active = await ctx.adapters.delete(adapter_name)
        except SwitchboardError as exc:
            _note_refusal(info, exc)
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
        ctx = _ctx(info)
        try:  # refused now, as the worker would refuse it, before any progress event says otherwise
            request_id = await new_request_id(ctx, args)
        except SwitchboardError as exc:
            raise user_error(exc) from exc
        stages = selects(info, "stage")
        if stages and args.web_search:
            yield TokenChunk.progress(ChunkStage.SEARCHING, request_id)
        grounding = await grounding_for(ctx, args.prompt, args.web_search)  # never raises: failure is a notice
        sources = Source.all_of(grounding.results) if args.web_search else None
        if stages:
            event = TokenChunk.progress(ChunkStage.GENERATING, request_id)
            event.sources, event.search_notice = sources, grounding.notice
            yield event
        request = build_request(args, grounding, request_id)
        stream: AsyncIterator[ChunkMessage] = ctx.inference.stream(request, ctx.may_resume)
        first = True
        try:
            async for chunk in stream:
                out = TokenChunk.of(chunk)
                if first and args.web_search:
                    out.sources, out.search_notice = sources, grounding.notice
                first = False
                yield out
        except SwitchboardError as exc:
            raise user_error(exc) from exc
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    @strawberry.subscription(
        description="Pick an answer up again by its requestId (after a reload or a dropped connection): its chunks "
        "from seq `fromSeq` on, read back from stream TOKENS, then live until the last. NOT_FOUND when the id is "
        "unknown or expired (TOKENS_MAX_AGE_S)"
    )
    async def infer_resume(
        self, info: Info[Context, None], request_id: str, from_seq: int = 0
    ) -> AsyncGenerator[TokenChunk, None]:
        ctx = _ctx(info)
        if from_seq < 0:
            raise user_error(SwitchboardError(ErrorCode.BAD_REQUEST, "must be 0 or more", "from_seq"))
        stream: AsyncIterator[ChunkMessage] = ctx.inference.resume(request_id, from_seq, ctx.may_resume, ctx.reader)
        try:
            async for chunk in stream:
                yield TokenChunk.of(chunk)
        except SwitchboardError as exc:
            raise user_error(exc) from exc
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    @strawberry.subscription(
        description="A fine-tune's progress: its current state first (a reloaded page picks up where it was), "
        "then every step until it ends"
    )
    async def fine_tune_progress(
        self, info: Info[Context, None], job_id: str
    ) -> AsyncGenerator[FineTuneProgress, None]:
        ctx = _ctx(info)
        updates = ctx.training.progress(job_id)
        try:
            async for update in updates:
                yield FineTuneProgress.of(update)
        except SwitchboardError as exc:
            raise user_error(exc) from exc
        finally:
            await updates.aclose()  # type: ignore[attr-defined]


class Schema(strawberry.Schema):
    """Logs user errors in one line; only unexpected ones with a traceback. Subscriptions sent as plain HTTP
    requests get a clear error instead of a null-field failure."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[StrawberryOperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> StrawberryResult:
        # `execute` serves HTTP only (websocket subscriptions go through `subscribe`)
        if query and (problem := _http_problem(query, operation_name)) is not None:
            error = GraphQLError(problem, extensions={"code": "BAD_REQUEST"})
            count_refused(getattr(context_value, "metrics", None), self, parse_document(query), "bad_request")
            return StrawberryResult(data=None, errors=[error])
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            original = error.original_error
            if not (error.extensions or {}).get("code"):
                # no code yet: the document or a variable is wrong (syntax, unknown field or argument, a value
                # GraphQL cannot coerce: graphql-core wraps those in a GraphQLError), else it is a bug
                bad_input = original is None or isinstance(original, GraphQLError)
                error.extensions = {**(error.extensions or {}), "code": "BAD_REQUEST" if bad_input else "INTERNAL"}
                document = execution_context.graphql_document if execution_context is not None else None
                if bad_input and (argument := graphql_argument_at(document, error.nodes)) is not None:
                    error.extensions["argument"] = argument
            if original is None or isinstance(original, (GraphQLError, SwitchboardError)):
                log.info("graphql error", extra={"error": error.message, "path": error.path})
            else:
                log.error("graphql failure", exc_info=original)


SUBSCRIPTION_OVER_HTTP = (
    "subscriptions run over WebSocket (the graphql-transport-ws protocol, same URL); HTTP serves queries and mutations"
)


def _http_problem(query: str, operation_name: str | None) -> str | None:
    """A subscription sent over HTTP, or several operations and no `operationName` (GraphQL requires one)."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return None  # strawberry reports the syntax error
    if operation_name is None and (problem := operation_problem(document, None)) is not None:
        return problem
    operation = get_operation_ast(document, operation_name)
    if operation is not None and operation.operation == OperationType.SUBSCRIPTION:
        return SUBSCRIPTION_OVER_HTTP
    return None


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
