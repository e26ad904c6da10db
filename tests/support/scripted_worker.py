"""A scripted inference worker for gateway tests: the wire protocol of `services.inference` without a model.

It joins queue group `inference` on `svc.inference.generate` of a real nats-server and plays a script for
each request: chunks published before the `Accept` (so the gateway holds them all when its request
returns, as when it falls behind), then chunks published after it, paced. Token texts are the script's; or the script gives whole chunks (`pieces`: a choice's `index`, logprobs,
tool calls, finish reasons), numbered and ended by the script. With `model_id` it also answers
`svc.inference.info` (the OpenAI API asks it for the base model's id).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg

from messages import (
    Accept,
    ErrorCode,
    ErrorMessage,
    FinishReason,
    GenerateRequest,
    ModelInfo,
    TokenChunk,
    Usage,
    decode,
    encode,
    subjects,
)


@dataclass
class Script:
    """What to send for one request. `tokens[i]` goes out as seq i; the last chunk has `done`."""

    tokens: list[str] = field(default_factory=list)
    before_accept: int = 0  # how many of the chunks are published before the Accept
    interval_s: float = 0.0  # pause between two chunks published after the Accept
    error: ErrorMessage | None = None  # end with this error instead of finish_reason=stop
    skip_seq: int | None = None  # leave this seq out (a broken stream)
    # whole chunks instead of `tokens` (their request_id and seq are set here; the last gets `done`, usage
    # and, without one, finish_reason stop)
    pieces: list[TokenChunk] | None = None
    refuse: ErrorMessage | None = None  # answer the request with this error instead of an Accept

    def chunks(self, request_id: str) -> list[TokenChunk]:
        if self.pieces is not None:
            return self._pieces(request_id, self.pieces)
        out = []
        for seq, token in enumerate(self.tokens):
            if seq == self.skip_seq:
                continue
            last = seq == len(self.tokens) - 1
            out.append(
                TokenChunk(
                    request_id=request_id,
                    seq=seq,
                    token=token,
                    done=last,
                    finish_reason=None if not last or self.error else FinishReason.STOP,
                    usage=Usage(prompt_tokens=3, completion_tokens=len(self.tokens)) if last else None,
                    error=self.error if last else None,
                )
            )
        return out

    def _pieces(self, request_id: str, pieces: list[TokenChunk]) -> list[TokenChunk]:
        out = [msgspec.structs.replace(p, request_id=request_id, seq=seq) for seq, p in enumerate(pieces)]
        last = out[-1]
        usage = Usage(prompt_tokens=3, completion_tokens=sum(len(p.logprobs or [p.token]) for p in out))
        out[-1] = msgspec.structs.replace(
            last, done=True, usage=usage, finish_reason=last.finish_reason or FinishReason.STOP
        )
        return out


def piece(token: str = "", index: int = 0, **fields: object) -> TokenChunk:
    """A chunk for `Script.pieces` (its request id and seq are the script's to set)."""
    return TokenChunk(request_id="", seq=0, token=token, index=index, **fields)  # type: ignore[arg-type]


def failing(tokens: list[str], message: str = "the worker failed on purpose") -> Script:
    """`tokens`, then a final empty chunk carrying an INTERNAL error."""
    return Script(tokens=[*tokens, ""], error=ErrorMessage(ErrorCode.INTERNAL, message))


SCRIPTED_WORKER_ID = "scripted"


@dataclass
class ScriptedWorker:
    script: Callable[[GenerateRequest], Script]
    nc: Client | None = None
    worker_id: str = SCRIPTED_WORKER_ID
    requests: list[GenerateRequest] = field(default_factory=list)
    model_id: str | None = None  # answer `svc.inference.info` as serving this model
    active: set[str] = field(default_factory=set)  # request ids still being sent
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def on_ping(self, msg: Msg) -> None:
        """Liveness probes, as a real worker answers them (`infer.ping.<worker_id>`)."""
        await msg.respond(subjects.PING_ACTIVE if msg.data.decode() in self.active else subjects.PING_UNKNOWN)

    async def on_info(self, msg: Msg) -> None:
        assert self.model_id is not None
        info = ModelInfo(self.model_id, "cpu", "float32", False, 2048, "ready", self.worker_id, max_concurrency=8)
        await msg.respond(encode(info))

    async def on_generate(self, msg: Msg) -> None:
        nc = self.nc
        assert nc is not None
        request = decode(msg.data, GenerateRequest)
        self.requests.append(request)
        script = self.script(request)
        if script.refuse is not None:
            await msg.respond(encode(script.refuse))
            return
        chunks = script.chunks(request.request_id)
        subject = subjects.tokens_subject(request.request_id)
        for chunk in chunks[: script.before_accept]:
            await nc.publish(subject, encode(chunk))
        accept = Accept(request.request_id, self.worker_id, prompt_tokens=3, max_new_tokens=len(script.tokens))
        await msg.respond(encode(accept))

        self.active.add(request.request_id)

        async def rest() -> None:
            try:
                for chunk in chunks[script.before_accept :]:
                    if script.interval_s:
                        await asyncio.sleep(script.interval_s)
                    await nc.publish(subject, encode(chunk))
                await nc.flush()
            finally:
                self.active.discard(request.request_id)

        task = asyncio.create_task(rest())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@contextlib.asynccontextmanager
async def scripted_worker(
    nats_url: str,
    script: Callable[[GenerateRequest], Script],
    worker_id: str = SCRIPTED_WORKER_ID,
    model_id: str | None = None,
) -> AsyncIterator[ScriptedWorker]:
    """Serve `svc.inference.generate` with `script` until the block ends, answering probes as `worker_id` (and
    `svc.inference.info` as serving `model_id`, when given)."""
    import nats

    nc = await nats.connect(nats_url, name="scripted-inference-worker")
    worker = ScriptedWorker(script, nc=nc, worker_id=worker_id, model_id=model_id)
    try:
        await nc.subscribe(subjects.INFERENCE_GENERATE, queue=subjects.INFERENCE_QUEUE, cb=worker.on_generate)
        await nc.subscribe(subjects.ping_subject(worker_id), cb=worker.on_ping)
        if model_id is not None:
            await nc.subscribe(subjects.INFERENCE_INFO, queue=subjects.INFERENCE_QUEUE, cb=worker.on_info)
        await nc.flush()
        yield worker
    finally:
        for task in list(worker._tasks):
            task.cancel()
        await nc.close()
