"""Talking to inference workers over NATS: start a generation, relay its chunks, cancel on early exit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from messages import (
    Accept,
    Cancel,
    ErrorCode,
    GenerateReply,
    GenerateRequest,
    ModelInfo,
    SwitchboardError,
    TokenChunk,
    decode,
    encode,
    subjects,
)
from services.runtime import answer_ping

from .config import GatewayConfig
from .metrics import GatewayMetrics
from .nats_request import request
from .token_relay import Liveness, TokenRelay, join

BUSY_FIRST_PAUSE_S = 0.05
BUSY_LONGEST_PAUSE_S = 0.5  # a freed slot is taken within half a second
PROBE_TIMEOUT_S = 1.0  # a live worker answers a liveness probe from its event loop in milliseconds
REPLAY_TIMEOUT_S = 3.0  # reading lost chunks back from TOKENS (a stream leader is being elected, say)
RESTARTS = 2  # times a request whose worker stopped before its first chunk is asked of the workers again

NO_WORKER = "no inference worker is running; start one with `python -m services.inference` (`just up` does)"


class InferenceClient:
    """Generations through the workers. With `requester` (this gateway's instance id), every request names
    `gateway.ping.<requester>`, which `answer_requester_pings` answers: a worker whose gateway died (or no
    longer wants the request) stops generating within seconds."""

    def __init__(
        self,
        nc: Client,
        config: GatewayConfig,
        metrics: GatewayMetrics | None = None,
        requester: str | None = None,
    ) -> None:
        self._nc = nc
        self._config = config
        self._metrics = metrics or GatewayMetrics()
        self._requester_ping = subjects.requester_ping_subject(requester) if requester else None
        self._open: set[str] = set()  # request ids of the streams open here

    async def answer_requester_pings(self) -> None:
        """Answer workers' "do you still want request <body>?" on `gateway.ping.<requester>`."""
        if self._requester_ping is None:
            return

        async def answer(msg: Msg) -> None:
            await answer_ping(msg, self._open)

        await self._nc.subscribe(self._requester_ping, cb=answer)

    async def _request(self, subject: str, payload: bytes) -> bytes:
        return await request(
            self._nc,
            subject,
            payload,
            timeout_s=self._config.request_timeout_s,
            absent=NO_WORKER,
            what="no inference worker (all overloaded?); the inference service",
        )

    async def info(self) -> ModelInfo:
        return decode(await self._request(subjects.INFERENCE_INFO, b"{}"), ModelInfo)

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
            data = await self._request(subjects.INFERENCE_GENERATE, payload)
            reply: GenerateReply = decode(data, GenerateReply)  # type: ignore[arg-type]
            if isinstance(reply, Accept):
                return reply
            if reply.code is not ErrorCode.BUSY:
                raise SwitchboardError.from_message(reply)
            left = deadline - loop.time()
            if left <= 0:
                if not self._config.busy_wait_s:
                    raise SwitchboardError.from_message(reply)
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

    async def stream(self, request: GenerateRequest) -> AsyncIterator[TokenChunk]:
        """Yield the generation's chunks in `seq` order; an early exit cancels the generation.

        Chunks that arrive while the caller is busy with the previous one come out joined into one (tokens in
        order, the `seq` of the last), so a slow reader costs one chunk per catch-up, not one per token.
        A worker that stops before its first chunk (found by the liveness probe) costs no error: the request
        goes to the workers again, up to `RESTARTS` times.

        Raises:
            SwitchboardError: the worker's typed error (after the text generated before it), BUSY or
                UNAVAILABLE when no worker takes the request, TIMEOUT after `token_timeout_s` of silence,
                INTERNAL when the token stream is broken.
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
        finished = False
        asked = time.perf_counter()
        waiting_first = True
        self._metrics.streams_open.inc()
        self._open.add(request.request_id)
        try:
            accept = await self._start(request)
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
                    relay.rewatch(self._prober(accept, request.request_id))
                    continue
                if waiting_first:
                    self._metrics.time_to_first_token.observe(time.perf_counter() - asked)
                    waiting_first = False
                end = next((i for i, chunk in enumerate(chunks) if chunk.done), None)
                if end is None:
                    yield join(chunks)
                    continue
                finished = True
                error = chunks[end].error
                if error is None:
                    yield join(chunks[: end + 1])
                    return
                if end:
                    yield join(chunks[:end])  # the text generated before the error
                raise SwitchboardError.from_message(error)
        finally:
            self._open.discard(request.request_id)
            self._metrics.streams_open.dec()
            relay.close()
            # the cancel first, also when the client left while an accept was on its way (the worker may have
            # started; one that never ran this request ignores it). A cleanup await that a second cancellation
            # interrupts must not leave the generation running or the subscription open.
            if not finished:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    cancel = Cancel(request.request_id, "client went away")
                    await asyncio.shield(self._nc.publish(subjects.cancel_subject(request.request_id), encode(cancel)))
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(sub.unsubscribe())
