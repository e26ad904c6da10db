"""Reading answers back from stream TOKENS: the chunks a relay lost on the way (`replay`), and a whole answer
from any `seq` on, kept chunks first and then live ones, for `inferResume` and a reconnecting client
(`AnswerReader.resume`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import msgspec
from nats.aio.client import Client
from nats.aio.subscription import Subscription as JsSubscription
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError

from messages import ErrorCode, SwitchboardError, TokenChunk, decode, subjects

from ..config import GatewayConfig
from ..http.metrics import GatewayMetrics
from .answers import NOT_KEPT, Answers, check_id
from .token_relay import Liveness, join, settle
from .worker_probe import probe

REPLAY_TIMEOUT_S = 3.0  # reading lost chunks back from TOKENS (a stream leader is being elected, say)
RESUME_PROBE_S = 2.0  # while a resumed answer is silent, how often its worker is asked whether it still runs


async def replay(nc: Client, request_id: str, first: int, end: int) -> list[TokenChunk]:
    """Chunks `first` <= seq < `end` of `request_id`, read back from stream TOKENS (an ordered consumer on
    the request's subject): those found within `REPLAY_TIMEOUT_S`, fewer when the stream lacks some or
    does not answer (the relay says which are missing)."""
    found: list[TokenChunk] = []
    with contextlib.suppress(TimeoutError, NatsError):
        async with asyncio.timeout(REPLAY_TIMEOUT_S):
            sub = await nc.jetstream().subscribe(
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


class AnswerReader:
    """Answers read back by request id from stream TOKENS, for the caller that may read them; which answers
    are open, detached or reserved here is `answers`'."""

    def __init__(self, nc: Client, answers: Answers, config: GatewayConfig, metrics: GatewayMetrics) -> None:
        self._nc = nc
        self._answers = answers
        self._config = config
        self._metrics = metrics

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
                    for chunk in join(text):
                        yield chunk
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
                if worker_id is not None and await probe(self._nc, worker_id, request_id) in (
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


def from_seq_on(chunks: list[TokenChunk], from_seq: int) -> list[TokenChunk]:
    """The chunks with `seq` >= `from_seq`, and the last chunk in any case (its token dropped when the
    caller has it already): a caller that had every token still learns how the answer ended."""
    return [
        chunk if chunk.seq >= from_seq else msgspec.structs.replace(chunk, token="")
        for chunk in chunks
        if chunk.seq >= from_seq or chunk.done
    ]
