"""One generation's chunks as NATS delivers them, handed on in batches: whatever is waiting becomes one chunk.

A reader that is slower than the worker (a slow websocket client, or the gateway itself under load) takes
every chunk that arrived since it last looked in one go, joined in order, so catching up costs one frame,
not one per token. Nothing is dropped or reordered: `seq` is checked on every NATS message, and a joined
chunk carries the `seq` of its last token. Only a run of one choice's chunks is joined (with `n` > 1 the
choices' chunks interleave), and never past a choice's finish reason. Chunks that never arrived (the gateway's
NATS connection moved to another server while they were sent) are read back from stream TOKENS, which keeps
every chunk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum

import msgspec
from nats.aio.msg import Msg

from messages import ErrorCode, ErrorMessage, SwitchboardError, TokenChunk

_decode_chunk = msgspec.json.Decoder(TokenChunk).decode
JOIN_MAX_CHARS = 64 * 1024  # a joined chunk stays far below clients' message limits (websockets: 1 MiB)
PROBE_AFTER_S = 2.0  # silence after which the worker is asked whether it lives (a dead one is known in < 5 s)
UNANSWERED_PROBES = 2  # probes that time out in a row before a worker that still has a connection is given up
CONFIRMED_SILENCE_FACTOR = 10  # a worker that says it holds the request may stay silent this many timeouts


class Liveness(Enum):
    """What a probe of the worker that accepted a request found."""

    ACTIVE = "active"  # alive, and working on the request (a long prompt is being read, say)
    UNKNOWN = "unknown"  # alive, but without the request
    GONE = "gone"  # nothing answers on its subject: the process is gone
    SILENT = "silent"  # no answer in time: busy, paused, or cut off


Probe = Callable[[], Awaitable[Liveness]]
# the chunks with first <= seq < end that stream TOKENS holds (those it could read back in time)
Replay = Callable[[int, int], Awaitable[list[TokenChunk]]]


class TokenRelay:
    """Receives the chunks of one request (`on_msg`, a nats-py subscription callback) and hands them out
    in batches (`take`). Single reader; the callback never blocks."""

    def __init__(self, token_timeout_s: float, replay: Replay | None = None) -> None:
        self._timeout_s = token_timeout_s
        self._replay = replay
        self._held: list[TokenChunk] = []  # arrived after a gap, waiting for the gap to be filled
        self._filling: asyncio.Task[None] | None = None
        self._waiting: list[TokenChunk] = []
        self._wakeup: asyncio.Future[None] | None = None
        self._expected = 0
        self._broken: SwitchboardError | None = None
        self._loop = asyncio.get_running_loop()
        self._heard_at = self._loop.time()
        self._probe: Probe | None = None
        self._probing: asyncio.Task[None] | None = None
        self._confirmed = False  # the last probe found the worker working on the request
        self._unanswered = 0
        # one timer per stream, moved on only when it fires (a timer per wait cost ~5% of the relay's CPU)
        self._watchdog = self._loop.call_at(self._heard_at + token_timeout_s, self._check_silence)

    def watch(self, probe: Probe) -> None:
        """Once a worker has accepted: after `PROBE_AFTER_S` of silence, ask it with `probe` (again every
        `PROBE_AFTER_S` while the silence lasts). A worker that is gone, or no longer holds the request, or
        leaves `UNANSWERED_PROBES` probes unanswered, ends the stream with UNAVAILABLE; one that says it is
        working on the request may stay silent `CONFIRMED_SILENCE_FACTOR` times the token timeout."""
        self._probe = probe
        self._watchdog.cancel()
        self._watchdog = self._loop.call_at(self._heard_at + PROBE_AFTER_S, self._check_silence)

    @property
    def started(self) -> bool:
        """Whether any chunk has arrived (taken in, or held behind a gap)."""
        return self._expected > 0 or bool(self._held)

    def rewatch(self, probe: Probe) -> None:
        """Start over with another worker, for a request whose first worker stopped before its first chunk:
        the error is forgotten and the silence counts from now. The new worker's chunks may be in already
        (they can arrive before its Accept)."""
        if self._probing is not None:
            self._probing.cancel()
            self._probing = None
        self._broken = None
        self._confirmed = False
        self._unanswered = 0
        self._heard_at = self._loop.time()
        self.watch(probe)

    def close(self) -> None:
        """Stop the silence timer and any probe; call when the stream ends."""
        self._watchdog.cancel()
        if self._probing is not None:
            self._probing.cancel()
        if self._filling is not None:
            self._filling.cancel()

    def _check_silence(self) -> None:
        now = self._loop.time()
        limit = self._timeout_s * (CONFIRMED_SILENCE_FACTOR if self._confirmed else 1)
        if now - self._heard_at >= limit:
            self._fail(
                SwitchboardError(
                    ErrorCode.TIMEOUT, f"the inference worker sent nothing for {limit:g}s and was given up"
                )
            )
            return
        if self._probe is None:
            self._watchdog = self._loop.call_at(self._heard_at + limit, self._check_silence)
            return
        if now - self._heard_at >= PROBE_AFTER_S and self._probing is None:
            self._probing = self._loop.create_task(self._ask(self._probe))
        self._watchdog = self._loop.call_at(max(now, self._heard_at) + PROBE_AFTER_S, self._check_silence)

    async def _ask(self, probe: Probe) -> None:
        try:
            found = await probe()
        finally:
            self._probing = None
        self._confirmed = found is Liveness.ACTIVE
        self._unanswered = self._unanswered + 1 if found is Liveness.SILENT else 0
        if found is Liveness.GONE or self._unanswered >= UNANSWERED_PROBES:
            why = "is gone" if found is Liveness.GONE else f"left {self._unanswered} liveness probes unanswered"
            self._fail(SwitchboardError(ErrorCode.UNAVAILABLE, f"the inference worker stopped mid-answer ({why})"))
        elif found is Liveness.UNKNOWN:
            self._fail(SwitchboardError(ErrorCode.UNAVAILABLE, "the inference worker no longer holds this request"))

    async def on_msg(self, msg: Msg) -> None:
        try:
            chunk = _decode_chunk(msg.data)
        except msgspec.DecodeError as exc:
            self._fail(SwitchboardError(ErrorCode.INTERNAL, f"token stream broken: an unreadable chunk ({exc})"))
            return
        self._heard_at = self._loop.time()
        if chunk.seq < self._expected:
            return  # delivered already (read back from TOKENS while it was also on its way live)
        if chunk.seq > self._expected or self._filling is not None:
            self._gap(chunk)
            return
        self._take_in(chunk)

    def _take_in(self, chunk: TokenChunk) -> None:
        self._expected += 1
        self._waiting.append(chunk)
        self._wake()

    def _gap(self, chunk: TokenChunk) -> None:
        """Chunks before `chunk` did not arrive (the NATS connection moved to another server, say): read them
        back from stream TOKENS, then go on; without a replay, or when TOKENS lacks them, the stream fails."""
        if self._replay is None:
            self._fail(
                SwitchboardError(
                    ErrorCode.INTERNAL, f"token stream broken: expected chunk {self._expected}, got {chunk.seq}"
                )
            )
            return
        self._held.append(chunk)
        if self._filling is None:
            self._filling = self._loop.create_task(self._fill(self._replay))

    async def _fill(self, replay: Replay) -> None:
        try:
            while self._held and self._broken is None:
                self._held.sort(key=lambda c: c.seq)
                end = self._held[0].seq
                if end > self._expected:
                    first = self._expected
                    found = [c for c in await replay(first, end) if c.seq >= self._expected]
                    if [c.seq for c in found] != list(range(first, end)):
                        raise SwitchboardError(
                            ErrorCode.UNAVAILABLE,
                            f"chunks {first} to {end - 1} of the answer were lost on the way and are not in "
                            "stream TOKENS; ask again",
                        )
                    for chunk in found:
                        self._take_in(chunk)
                held, self._held = self._held, []
                for chunk in held:
                    if chunk.seq == self._expected:
                        self._take_in(chunk)
                    elif chunk.seq > self._expected:
                        self._held.append(chunk)
        except SwitchboardError as exc:
            self._fail(exc)
        finally:
            self._filling = None

    def _fail(self, error: SwitchboardError) -> None:
        if self._broken is None:
            self._broken = error
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def take(self) -> list[TokenChunk]:
        """Every chunk that has arrived and was not taken yet, in `seq` order, up to `JOIN_MAX_CHARS` of text
        (but at least one chunk); waits for one when none is waiting.

        Raises:
            SwitchboardError: TIMEOUT after `token_timeout_s` without a chunk; UNAVAILABLE when the worker
                stopped (see `watch`); UNAVAILABLE when chunks were lost and could not be read back from
                TOKENS; INTERNAL when a chunk could not be read, or came out of order with no replay (the
                chunks before any of these are handed out first).
        """
        if not self._waiting and self._broken is None:
            self._wakeup = self._loop.create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        if not self._waiting and self._broken is not None:
            raise self._broken
        taken, size = 0, 0
        for chunk in self._waiting:  # at least one, then as many as fit
            size += len(chunk.token)
            if taken and size > JOIN_MAX_CHARS:
                break
            taken += 1
        if taken == len(self._waiting):
            batch, self._waiting = self._waiting, []
        else:
            batch, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return batch


def join(chunks: list[TokenChunk]) -> list[TokenChunk]:
    """Chunks in `seq` order, none with an error, joined where they may be: each run of chunks of one choice
    (`index`) becomes one, its tokens, logprobs and tool calls in order and the rest from its last chunk. A
    run ends at a chunk with a finish reason (that choice's last) and where the next chunk is another
    choice's, so a joined chunk's `seq` still says that every chunk up to it was handed out."""
    if len(chunks) == 1:
        return chunks
    joined: list[TokenChunk] = []
    start = 0
    index = chunks[0].index
    for i, chunk in enumerate(chunks):
        if chunk.index != index:
            if start < i:
                joined.append(_joined(chunks, start, i))
            start, index = i, chunk.index
        if chunk.finish_reason is not None:
            joined.append(_joined(chunks, start, i + 1))
            start = i + 1
    if start < len(chunks):
        joined.append(_joined(chunks, start, len(chunks)))
    return joined


def _joined(chunks: list[TokenChunk], start: int, end: int) -> TokenChunk:
    """`chunks[start:end]`, one choice's, as one chunk."""
    last = chunks[end - 1]
    if end - start == 1:
        return last
    run = chunks[start:end]
    token = "".join([c.token for c in run])
    if not any(c.logprobs is not None or c.tool_calls is not None for c in run):
        return msgspec.structs.replace(last, token=token)
    logprobs = [lp for c in run for lp in c.logprobs or ()] if any(c.logprobs is not None for c in run) else None
    calls = [call for c in run for call in c.tool_calls or ()] or None
    return msgspec.structs.replace(last, token=token, logprobs=logprobs, tool_calls=calls)


def settle(chunks: list[TokenChunk]) -> tuple[list[TokenChunk], ErrorMessage | None, bool]:
    """Split a batch at the generation's last chunk: the chunks to send (the text before an error, or up to
    and including the last chunk), the error it ended with, and whether it ended."""
    end = next((i for i, chunk in enumerate(chunks) if chunk.done), None)
    if end is None:
        return chunks, None, False
    error = chunks[end].error
    return (chunks[:end] if error is not None else chunks[: end + 1]), error, True
