"""GraphQL's mutations: a whole answer through the generation layer (`generation.py`), and the admin's changes
(fine-tunes, datasets, adapters) through the clients. A refused change is the result's `ok: false` with its
error code, not a GraphQL error (the web app shows it beside the form)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from messages import DatasetInfo, ErrorCode, FineTuneSpec, FinishReason, SwitchboardError

from ..clients.adapter_switch import Superseded, switch
from ..error_fields import graphql_argument, graphql_message
from .arguments import argument_names, takes
from .context import Context, authenticated, note_refusal, require_admin
from .dataset_types import Dataset, DatasetResult
from .errors import typed_errors, user_error
from .fine_tune_types import FineTuneResult
from .inputs import FineTuneArgs, GenerationArgs, ask_of, constraint_argument
from .selection import selects
from .types import (
    AdapterResult,
    BaseModelResult,
    InferenceChoice,
    InferenceResult,
    Source,
    TokenLogprob,
    ToolCall,
    Usage,
    given_fields,
)

SwitchResult = TypeVar("SwitchResult", AdapterResult, BaseModelResult)


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


def _switch_refused(
    info: Info[Context, None], exc: SwitchboardError, result: type[SwitchResult], active: str | None
) -> SwitchResult:
    """An adapter change's refusal as its result: counted for metrics, `active` the adapter reported active."""
    note_refusal(info, exc)
    return result(ok=False, error=graphql_message(exc), active_adapter=active, error_code=exc.code.value.upper())


def _active_now(exc: SwitchboardError) -> str | None:
    """The adapter a refused switch reports active: the one that superseded it, else none (unknown)."""
    return exc.active if isinstance(exc, Superseded) else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Generate a whole answer")
    @typed_errors
    @takes(GenerationArgs)
    async def infer(self, info: Info[Context, None], args: GenerationArgs) -> InferenceResult:
        ctx = authenticated(info)
        try:
            ask = ask_of(args, ctx.key_id, logprobs=selects(info, "logprobs", deep=True))
            planned = await ctx.generations.prepare(ask)
            whole = await ctx.generations.whole(planned)
        except SwitchboardError as exc:
            raise user_error(exc, constraint_argument(args)) from exc
        choices = [
            InferenceChoice(
                index=c.index,
                text=c.text,
                finish_reason=(c.finish_reason or FinishReason.STOP).value,
                tool_calls=ToolCall.all_of(c.tool_calls) or [],
                logprobs=TokenLogprob.all_of(c.logprobs),
            )
            for c in whole.choices
        ]
        first = choices[0]
        return InferenceResult(
            text=first.text,
            request_id=planned.request_id,
            finish_reason=first.finish_reason,
            usage=Usage.of(whole.last.usage),
            sources=Source.all_of(planned.grounding.results),
            search_notice=planned.grounding.notice,
            tool_calls=first.tool_calls,
            logprobs=first.logprobs,
            choices=choices,
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
            return _switch_refused(info, exc, AdapterResult, _active_now(exc))
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
            return _switch_refused(info, exc, BaseModelResult, _active_now(exc))
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
            return _switch_refused(info, exc, AdapterResult, None)
        return AdapterResult(ok=True, error=None, active_adapter=active)
