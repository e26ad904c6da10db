"""Admission on `svc.inference.generate`: decode the request, decide whether it may run on this worker now,
reply `Accept` or the refusal (counted by error code), and keep the admitted generations until they end."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from nats.micro.request import Request

from messages import (
    Accept,
    Constraint,
    ErrorCode,
    ErrorMessage,
    GenerateRequest,
    JsonConstraint,
    SwitchboardError,
    decode,
    encode,
)
from services.runtime import reply_error

from .adapters import Adapters
from .engine_core import EngineCore
from .gpu_lending import GpuLending
from .grammar import CompiledConstraint, constraint_text
from .metrics import InferenceMetrics
from .model_runner import Job, ModelRunner
from .schema_support import UnenforceableSchema, check_enforceable
from .tools import ToolCallParser, check_tool_schemas, tool_call_grammar

T = TypeVar("T")


@dataclass
class Generation:
    """One admitted request on this worker: the engine core's `Job` and what the actor keeps about it besides
    (vLLM keeps the same apart: `Request` in the core, `RequestState` in the output processor)."""

    job: Job
    adapter: str | None = None  # the adapter's name; None: the base model
    adapter_revision: int = 0  # the version of `adapter` to use (the KV revision of its registry entry)
    requester_ping: str | None = None  # where to ask whether the requester still wants it (GenerateRequest's)
    # one per answer when the request offers tools: reads `<tool_call>` blocks out of the answer's text
    tool_parsers: list[ToolCallParser] | None = None

    @property
    def request_id(self) -> str:
        return self.job.request_id


class Intake:
    """The worker's door. `active` holds the admitted generations by request id until `end`; `shutting_down`,
    once set, refuses every new request."""

    def __init__(
        self,
        runner: ModelRunner,
        core: EngineCore,
        adapters: Adapters,
        lending: GpuLending,
        *,
        max_concurrency: int,
        max_choices: int,
        max_constraint_chars: int,
        max_schema_depth: int,
        worker_id: str,
        metrics: InferenceMetrics,
        log: logging.Logger,
    ) -> None:
        self._runner = runner
        self._core = core
        self._adapters = adapters
        self._lending = lending
        self._max_concurrency = max_concurrency
        self._max_choices = max_choices
        self._max_constraint_chars = max_constraint_chars
        self._max_schema_depth = max_schema_depth
        self._worker_id = worker_id
        self._metrics = metrics
        self._log = log
        self.active: dict[str, Generation] = {}
        self.shutting_down = False

    async def on_generate(self, req: Request) -> Generation | None:
        """Answer one `svc.inference.generate` request: `Accept` and the admitted generation (the caller runs
        it), or the refusal's `ErrorMessage` and None. A request that breaks the worker is refused INTERNAL."""
        try:
            generation = await self.admit(decode(req.data, GenerateRequest))
        except SwitchboardError as exc:
            self._metrics.refusals.labels(exc.code.value).inc()
            await reply_error(req, exc.to_message())
            return None
        except Exception as exc:  # never let a bad request take the worker down
            self._metrics.refusals.labels(ErrorCode.INTERNAL.value).inc()
            self._log.exception("generate rejected")
            await reply_error(req, ErrorMessage(ErrorCode.INTERNAL, f"internal error: {exc}"))
            return None
        job = generation.job
        await req.respond(
            encode(
                Accept(
                    request_id=job.request_id,
                    worker_id=self._worker_id,
                    prompt_tokens=job.prompt_tokens,
                    max_new_tokens=job.max_new_tokens,
                )
            )
        )
        return generation

    async def admit(self, request: GenerateRequest) -> Generation:
        """Tokenize `request`, resolve its adapter version and take a place for it in `active`.

        Raises `SwitchboardError`: BAD_REQUEST (an adapter and the base model both asked for, too long for
        the KV cache, `n` past INFERENCE_MAX_CHOICES, a constraint past INFERENCE_MAX_CONSTRAINT_CHARS or one
        the grammar engine cannot compile, what the engine core does not run), CONTEXT_OVERFLOW,
        ADAPTER_MISSING and the adapter's other errors, UNAVAILABLE (shutting down, or the GPU is lent),
        CONFLICT (the request id runs already), BUSY (no room now)."""
        if request.adapter is not None and request.base_model:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "give either an adapter or the base model, not both")
        self._core.check_supported(request)
        if request.params.n > self._max_choices:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"must be at most {self._max_choices} on this worker (INFERENCE_MAX_CHOICES)",
                "params.n",
            )
        job = self._runner.prepare(request)  # also checks `tools` and `tool_choice` (tools.offered_tools)
        if request.constraint is not None:
            job.grammar = await self._compile(request.constraint)
        tool_parsers = await self._tools(request, job)
        generation = Generation(
            job,
            adapter=None if request.base_model else request.adapter or self._adapters.active,
            requester_ping=request.requester_ping,
            tool_parsers=tool_parsers,
        )
        if generation.adapter is not None:  # exists, fits this base model; the version this request will use
            try:
                generation.adapter_revision = await self._adapters.resolve(generation.adapter)
            except SwitchboardError as exc:
                if request.adapter is not None or exc.code is not ErrorCode.ADAPTER_MISSING:
                    raise
                generation.adapter = None  # the default adapter was just deleted: the registry falls back to base too
        if self.shutting_down:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "this inference worker is shutting down")
        if self._lending.lent_to is not None:
            raise SwitchboardError(
                ErrorCode.UNAVAILABLE,
                f"the GPU is lent to fine-tuning job {self._lending.lent_to}; answers resume when the job ends",
            )
        if request.request_id in self.active:
            raise SwitchboardError(
                ErrorCode.CONFLICT,
                f"names a generation that is running already ({request.request_id})",
                "request_id",
            )
        if len(self.active) >= self._max_concurrency:
            raise SwitchboardError(
                ErrorCode.BUSY,
                f"the inference worker is busy ({self._max_concurrency} generation(s) running); try again in a moment",
            )
        self._core.check_room(job, [other.job for other in self.active.values()])
        self.active[job.request_id] = generation
        if job.grammar is not None:
            self._metrics.constrained.labels(job.grammar.kind).inc()
        return generation

    async def _compile(self, constraint: Constraint) -> CompiledConstraint:
        """The request's constraint compiled (off the event loop: a new schema takes milliseconds), timed.

        Raises `SwitchboardError` BAD_REQUEST, field `constraint`: longer than INFERENCE_MAX_CONSTRAINT_CHARS,
        a schema nested past INFERENCE_MAX_SCHEMA_DEPTH or using what the engine cannot enforce
        (`schema_support`), or one the grammar engine cannot compile."""
        size = len(constraint_text(constraint))
        if size > self._max_constraint_chars:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"is {size} characters long; this worker compiles at most {self._max_constraint_chars} "
                "(INFERENCE_MAX_CONSTRAINT_CHARS)",
                "constraint",
            )
        if isinstance(constraint, JsonConstraint) and constraint.schema is not None:
            try:
                check_enforceable(constraint.schema, self._max_schema_depth)
            except UnenforceableSchema as exc:
                raise SwitchboardError(ErrorCode.BAD_REQUEST, f"holds a JSON schema that {exc}", "constraint") from exc
        return await self._timed(self._runner.grammars.compile, constraint)

    async def _timed(self, compile: Callable[[T], CompiledConstraint], source: T) -> CompiledConstraint:
        """`compile(source)` off the event loop (a new grammar takes milliseconds), its time observed by kind."""
        began = time.perf_counter()
        compiled = await asyncio.to_thread(compile, source)
        self._metrics.grammar_compile.labels(compiled.kind).observe(time.perf_counter() - began)
        return compiled

    async def _tools(self, request: GenerateRequest, job: Job) -> list[ToolCallParser] | None:
        """Check the request's tool schemas with the grammar engine, hold a forced call to its grammar (set on
        `job`), and make each answer's tool-call parser; None when no tools are offered.

        Raises `SwitchboardError` BAD_REQUEST: a tool's `parameters` the engine cannot compile or, when the call
        is forced, cannot enforce (field `tools[i].parameters`), or a structural tag it rejects (`tools`)."""
        if not request.tools:
            return None
        grammars = self._runner.grammars
        await asyncio.to_thread(check_tool_schemas, request, grammars.compiler, self._max_schema_depth)
        tag = tool_call_grammar(request)
        if tag is not None:
            job.grammar = await self._timed(grammars.compile_structural_tag, tag)
        parsers = [ToolCallParser.for_request(request) for _ in range(request.params.n)]
        return [parser for parser in parsers if parser is not None] or None

    def end(self, generation: Generation) -> None:
        """Give up the generation's place (it has published its final chunk, or failed to)."""
        self.active.pop(generation.request_id, None)
