"""Talking to inference workers over NATS: start a generation (asking again while every worker is busy), relay
its chunks (`token_relay.py`), probe a silent worker (`worker_probe.py`); answers read back from TOKENS are
`answer_reader.py`'s, and which answers are open, detached or reserved here is `answers.py`'s."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg

from messages import (
    Accept,
    ErrorCode,
    GenerateRequest,
    ModelInfo,
    SwitchboardError,
    TokenChunk,
    encode,
    subjects,
)
from services.runtime import answer_ping
from services.runtime.call import INFERENCE, call

from ..config import GatewayConfig
from ..http.metrics import GatewayMetrics
from .answer_owners import AnswerOwners
from .answer_reader import AnswerReader, replay
from .answers import Answers
from .token_relay import Liveness, TokenRelay, join, settle
from .worker_probe import probe

BUSY_FIRST_PAUSE_S = 0.05
BUSY_LONGEST_PAUSE_S = 0.5  # a freed slot is taken within half a second
RESTARTS = 2  # times a request whose worker stopped before its first chunk is asked of the workers again

log = logging.getLogger("switchboard.gateway")

NO_WORKER = INFERENCE.absent
T = TypeVar("T")


class InferenceClient:
    """Generations through the workers. With `requester` (this gateway's instance id), every request names
    `gateway.ping.<requester>`, which `answer_requester_pings` answers: a worker whose gateway died (or no
    longer wants the request) stops generating within seconds.

    `owners` records who asked for each answer (`reserve`), and `resume` reads an answer back only for them.
    """

    def __init__(
        self,
        nc: Client,
        config: GatewayConfig,
        metrics: GatewayMetrics | None = None,
        requester: str | None = None,
        owners: AnswerOwners | None = None,
    ) -> None:
        self._nc = nc
        self._config = config
        self._metrics = metrics or GatewayMetrics()
        self._answers = Answers(
            nc, owners or AnswerOwners(nc, requester or "", config.answers_max_age_s), config.resume_grace_s
        )
        self._requester_ping = subjects.requester_ping_subject(requester) if requester else None
        self._reader = AnswerReader(nc, self._answers, config, self._metrics)

    async def answer_requester_pings(self) -> None:
        """Answer workers' "do you still want request <body>?" on `gateway.ping.<requester>`."""
        if self._requester_ping is None:
            return

        async def answer(msg: Msg) -> None:
            await answer_ping(msg, self._answers.open)

        await self._nc.subscribe(self._requester_ping, cb=answer)

    async def _call(self, subject: str, message: object, ok: type[T]) -> T:
        return await call(self._nc, subject, message, ok, timeout_s=self._config.request_timeout_s, peer=INFERENCE)

    async def info(self) -> ModelInfo:
        return await self._call(subjects.INFERENCE_INFO, b"{}", ModelInfo)

    async def _start(self, request: GenerateRequest) -> Accept:
        """Ask for a generation; while every worker is busy, ask again until `busy_wait_s` has passed.

        Each try goes to the queue group afresh, so whichever worker frees a slot first takes the request.
        Waiting requests are not ordered among themselves (no FIFO across gateways).
        """
        payload = encode(request)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.busy_wait_s
        pause = BUSY_FIRST_PAUSE_S
        while True:
            try:
                return await self._call(subjects.INFERENCE_GENERATE, payload, Accept)
            except SwitchboardError as exc:
                if exc.code is not ErrorCode.BUSY:
                    raise
                busy = exc
            left = deadline - loop.time()
            if left <= 0:
                if not self._config.busy_wait_s:
                    raise busy
                raise SwitchboardError(
                    ErrorCode.BUSY,
                    f"every inference worker stayed busy for {self._config.busy_wait_s:g} s; try again in a moment",
                )
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, BUSY_LONGEST_PAUSE_S)

    def _prober(self, accept: Accept, request_id: str) -> Callable[[], Awaitable[Liveness]]:
        return lambda: probe(self._nc, accept.worker_id, request_id)

    async def stream(
        self, request: GenerateRequest, resumable: Callable[[], bool] | None = None
    ) -> AsyncGenerator[TokenChunk, None]:
        """Yield the generation's chunks in `seq` order; an early exit cancels the generation, except when
        `resumable()` says so then (the client's connection dropped): it runs on for `resume_grace_s`, waiting
        for `resume`.

        Chunks that arrive while the caller is busy with the previous one come out joined into one (tokens in
        order, the `seq` of the last), so a slow reader costs one chunk per catch-up, not one per token.
        A worker that stops before its first chunk (found by the liveness probe) costs no error: the request
        goes to the workers again, up to `RESTARTS` times.

        Raises:
            SwitchboardError: the worker's typed error (after the text generated before it), BUSY or
                UNAVAILABLE when no worker takes the request, TIMEOUT after `token_timeout_s` of silence,
                UNAVAILABLE when chunks were lost on the way.
        """
        if self._requester_ping is not None and request.requester_ping is None:
            request = msgspec.structs.replace(request, requester_ping=self._requester_ping)
        relay = TokenRelay(
            self._config.token_timeout_s, lambda first, end: replay(self._nc, request.request_id, first, end)
        )
        # subscribe before asking, so not even the first token can be missed
        sub = await self._nc.subscribe(
            subjects.tokens_subject(request.request_id), cb=relay.on_msg, pending_msgs_limit=-1
        )
        finished = left = False
        worker_id: str | None = None
        claim = self._answers.take_claim(request.request_id)  # reserved by `reserve`: given back if never taken
        asked = time.perf_counter()
        waiting_first = True
        self._metrics.streams_open.inc()
        self._answers.open.add(request.request_id)
        refused = False
        try:
            try:
                accept = await self._start(request)
            except SwitchboardError:
                refused = True  # no worker runs it: nothing to cancel (an unreserved id may be another's)
                if claim is not None:  # and the id is free again: a corrected request may have it
                    await asyncio.shield(self._answers.owners.release(request.request_id, claim[1]))
                raise
            worker_id = accept.worker_id
            self._answers.note_worker(request.request_id, claim, worker_id)
            relay.watch(self._prober(accept, request.request_id))
            restarts = RESTARTS
            while True:
                try:
                    chunks = await relay.take()
                except SwitchboardError as exc:
                    # the worker stopped before its first chunk (queued behind others, or reading the prompt):
                    # nothing was sent yet, so another worker may answer it from the start
                    if exc.code is not ErrorCode.UNAVAILABLE or relay.started or not restarts:
                        raise
                    restarts -= 1
                    try:
                        accept = await self._start(request)
                    except SwitchboardError:
                        raise exc from None  # no other worker: what happened to the first is the news
                    worker_id = accept.worker_id
                    self._answers.note_worker(request.request_id, claim, worker_id)
                    relay.rewatch(self._prober(accept, request.request_id))
                    continue
                if waiting_first:
                    self._metrics.time_to_first_token.observe(time.perf_counter() - asked)
                    waiting_first = False
                text, error, finished = settle(chunks)
                if text:
                    for chunk in join(text):
                        yield chunk
                if error is not None:
                    raise SwitchboardError.from_message(error)
                if finished:
                    return
        except (GeneratorExit, asyncio.CancelledError):
            left = True  # the caller went away (not an error of ours)
            raise
        finally:
            self._metrics.streams_open.dec()
            relay.close()
            await self._answers.leave(request.request_id, worker_id, finished or refused, resumable if left else None)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(sub.unsubscribe())

    def resume(
        self,
        request_id: str,
        from_seq: int = 0,
        resumable: Callable[[], bool] | None = None,
        reader: str | None = None,
    ) -> AsyncGenerator[TokenChunk, None]:
        """Generation `request_id`'s chunks from `seq` `from_seq` on, for `reader` (`AnswerReader.resume`,
        which says what it raises)."""
        return self._reader.resume(request_id, from_seq, resumable, reader)

    async def reserve(self, owner: str, request_id: str | None = None) -> str:
        """The id of a new answer, reserved as `owner`'s (`Answers.reserve`, which says what it raises)."""
        return await self._answers.reserve(owner, request_id)
