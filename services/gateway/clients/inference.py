"""Talking to inference workers over NATS: start a generation (asking again while every worker is busy), relay
its chunks (`token_relay.py`), probe a silent worker, read an answer back from TOKENS (`resume`); which answers
are open, detached or reserved here is `answers.py`'s."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as JsSubscription
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from messages import (
    Accept,
    ErrorCode,
    ErrorMessage,
    GenerateRequest,
    ModelInfo,
    SwitchboardError,
    TokenChunk,
    decode,
    encode,
    subjects,
)
from services.runtime import answer_ping
from services.runtime.call import INFERENCE, call

from ..config import GatewayConfig
from ..http.metrics import GatewayMetrics
from .answer_owners import AnswerOwners
from .answers import NOT_KEPT, Answers, check_id
from .token_relay import Liveness, TokenRelay, join

BUSY_FIRST_PAUSE_S = 0.05
BUSY_LONGEST_PAUSE_S = 0.5  # a freed slot is taken within half a second
PROBE_TIMEOUT_S = 1.0  # a live worker answers a liveness probe from its event loop in milliseconds
REPLAY_TIMEOUT_S = 3.0  # reading lost chunks back from TOKENS (a stream leader is being elected, say)
RESTARTS = 2  # times a request whose worker stopped before its first chunk is asked of the workers again
RESUME_PROBE_S = 2.0  # while a resumed answer is silent, how often its worker is asked whether it still runs

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

    async def _probe(self, worker_id: str, request_id: str) -> Liveness:
        """Ask worker `worker_id` whether it lives and holds `request_id` (`infer.ping.<worker_id>`)."""
        try:
            reply = await self._nc.request(
                subjects.ping_subject(worker_id), request_id.encode(), timeout=PROBE_TIMEOUT_S
            )
        except NoRespondersError:
            return Liveness.GONE
        except (NatsTimeoutError, TimeoutError):
            return Liveness.SILENT
        except NatsError:
            return Liveness.SILENT  # our own connection is in trouble: not the worker's fault (yet)
        return Liveness.ACTIVE if reply.data == subjects.PING_ACTIVE else Liveness.UNKNOWN

    async def _replay(self, request_id: str, first: int, end: int) -> list[TokenChunk]:
        """Chunks `first` <= seq < `end` of `request_id`, read back from stream TOKENS (an ordered consumer on
        the request's subject): those found within `REPLAY_TIMEOUT_S`, fewer when the stream lacks some or
        does not answer (the relay says which are missing)."""
        found: list[TokenChunk] = []
        with contextlib.suppress(TimeoutError, NatsError):
            async with asyncio.timeout(REPLAY_TIMEOUT_S):
                sub = await self._nc.jetstream().subscribe(
                    subjects.tokens_subject(request_id), stream=subjects.TOKENS_STREAM, ordered_consumer=True
                )
                try:
                    while True:
                        chunk = decode((await sub.next_msg(timeout=REPLAY_TIMEOUT_S)).data, TokenChunk)
                        if first <= chunk.seq < end:
                            found.append(chunk)
                        if chunk.seq >= end - 1 or chunk.done:
                            break
                finally:
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()
        return found

    def _prober(self, accept: Accept, request_id: str) -> Callable[[], Awaitable[Liveness]]:
        return lambda: self._probe(accept.worker_id, request_id)

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
            self._config.token_timeout_s, lambda first, end: self._replay(request.request_id, first, end)
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
                    yield join(text)
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

    async def resume(
        self,
        request_id: str,
        from_seq: int = 0,
        resumable: Callable[[], bool] | None = None,
        reader: str | None = None,
    ) -> AsyncGenerator[TokenChunk, None]:
        """Yield generation `request_id`'s chunks from `seq` `from_seq` on: those kept in stream TOKENS first,
        then the rest as the worker writes them, until the last. Joined as `stream` joins them.

        A generation whose client dropped (`stream` with `resumable`) is claimed: it no longer ends when its
        grace runs out, and this caller leaving ends it as a `stream` caller leaving would. Any other
        generation (one still streamed to another client, or one another gateway started) is only read.

        `reader` is the key id that must have asked for the answer (`reserve`'s `owner`); None reads any (an
        admin key, or a gateway without keys). Another key's answer is NOT_FOUND, in the very words of an
        unknown one, so that a guessed id confirms nothing.

        Raises:
            SwitchboardError: BAD_REQUEST for an id that cannot be one (field `request_id`); NOT_FOUND when
                TOKENS keeps nothing of it (unknown, or older than TOKENS_MAX_AGE_S) or `reader` did not ask
                for it; the generation's own error; UNAVAILABLE when its worker stopped, or KV `answers`
                cannot be read; TIMEOUT after `token_timeout_s` of silence.
        """
        check_id(request_id)
        asked = await self._answers.owners.owner_of(request_id)
        if reader is not None and (asked is None or asked.owner != reader):
            raise SwitchboardError(ErrorCode.NOT_FOUND, NOT_KEPT, "request_id")
        detached = self._answers.detached.pop(request_id, None)
        if detached is not None:
            detached.expiry.cancel()
        elif request_id not in self._answers.open and not await self._answers.kept(request_id):
            raise SwitchboardError(ErrorCode.NOT_FOUND, NOT_KEPT, "request_id")
        # the worker that runs it, asked while the answer is silent: a dead one ends the wait at once
        worker_id = detached.worker_id if detached is not None else (asked.worker_id or None) if asked else None
        finished = left = False
        self._metrics.streams_open.inc()
        sub = await self._nc.jetstream().subscribe(
            subjects.tokens_subject(request_id), stream=subjects.TOKENS_STREAM, ordered_consumer=True
        )
        try:
            async for chunks in self._kept_chunks(sub, request_id, worker_id):
                text, error, finished = settle(from_seq_on(chunks, from_seq))
                if text:
                    yield join(text)
                if error is not None:
                    raise SwitchboardError.from_message(error)
                if finished:
                    return
        except (GeneratorExit, asyncio.CancelledError):
            left = True
            raise
        finally:
            self._metrics.streams_open.dec()
            if detached is not None:
                await self._answers.leave(request_id, worker_id, finished, resumable if left else None)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(sub.unsubscribe())

    async def reserve(self, owner: str, request_id: str | None = None) -> str:
        """The id of a new answer, reserved as `owner`'s (`Answers.reserve`, which says what it raises)."""
        return await self._answers.reserve(owner, request_id)

    async def _kept_chunks(
        self, sub: JsSubscription, request_id: str, worker_id: str | None
    ) -> AsyncIterator[list[TokenChunk]]:
        """The chunks an ordered consumer delivers, in batches of those waiting; while none come, the worker
        (when known) is asked every `RESUME_PROBE_S` whether it still runs the request.

        Raises:
            SwitchboardError: UNAVAILABLE when the worker is gone or no longer holds the request and nothing
                more came; TIMEOUT after `token_timeout_s` of silence.
        """
        loop = asyncio.get_running_loop()
        silent_since = loop.time()
        last_look = False
        while True:
            try:
                msg = await sub.next_msg(timeout=RESUME_PROBE_S)
            except (NatsTimeoutError, TimeoutError):
                if last_look:
                    raise SwitchboardError(
                        ErrorCode.UNAVAILABLE, "the inference worker stopped mid-answer; ask again"
                    ) from None
                if worker_id is not None and await self._probe(worker_id, request_id) in (
                    Liveness.GONE,
                    Liveness.UNKNOWN,
                ):
                    last_look = True  # its last chunks may still be on their way: one more wait
                elif loop.time() - silent_since > self._config.token_timeout_s:
                    raise SwitchboardError(
                        ErrorCode.TIMEOUT,
                        f"no token for {self._config.token_timeout_s:g} s (GATEWAY_TOKEN_TIMEOUT_S); ask again",
                    ) from None
                continue
            chunks = [decode(msg.data, TokenChunk)]
            while sub.pending_msgs:
                chunks.append(decode((await sub.next_msg()).data, TokenChunk))
            silent_since = loop.time()
            last_look = False
            yield chunks


def settle(chunks: list[TokenChunk]) -> tuple[list[TokenChunk], ErrorMessage | None, bool]:
    """Split a batch at the generation's last chunk: the chunks to send (the text before an error, or up to
    and including the last chunk), the error it ended with, and whether it ended."""
    end = next((i for i, chunk in enumerate(chunks) if chunk.done), None)
    if end is None:
        return chunks, None, False
    error = chunks[end].error
    return (chunks[:end] if error is not None else chunks[: end + 1]), error, True


def from_seq_on(chunks: list[TokenChunk], from_seq: int) -> list[TokenChunk]:
    """The chunks with `seq` >= `from_seq`, and the last chunk in any case (its token dropped when the
    caller has it already): a caller that had every token still learns how the answer ended."""
    return [
        chunk if chunk.seq >= from_seq else msgspec.structs.replace(chunk, token="")
        for chunk in chunks
        if chunk.seq >= from_seq or chunk.done
    ]
