"""GraphQL's subscriptions: an answer streamed through the generation layer (`generation.py`), read back by its
request id (`clients/inference.py`), and a fine-tune's progress (`clients/training.py`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from messages import ErrorCode, SwitchboardError

from ..generation import Planned
from .arguments import takes
from .context import Context, authenticated
from .errors import user_error
from .fine_tune_types import FineTuneProgress
from .inputs import GenerationArgs, ask_of, constraint_argument
from .selection import selects
from .types import ChunkStage, Source, TokenChunk


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Stream an answer token by token; completing the subscription cancels it. A connection that "
        "drops instead leaves the answer running for GATEWAY_RESUME_GRACE_S: inferResume picks it up by requestId"
    )
    @takes(GenerationArgs)
    async def infer_stream(self, info: Info[Context, None], args: GenerationArgs) -> AsyncGenerator[TokenChunk, None]:
        ctx = authenticated(info)
        try:  # refused now, as the worker would refuse it, before any progress event says otherwise
            ask = ask_of(args, ctx.key_id, logprobs=selects(info, "logprobs"))
            request_id = await ctx.generations.reserve(ask)
        except SwitchboardError as exc:
            raise user_error(exc, constraint_argument(args)) from exc
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
            raise user_error(exc, constraint_argument(args)) from exc
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
