"""A synthetic inference worker for bench.relay: no model, just the wire protocol, as fast as NATS allows.

`python -m bench._token_source` (env NATS_URL) answers `svc.inference.generate` in queue group
`inference` with an `Accept`, then publishes `max_new_tokens` TokenChunks (seq 0..K-1, the last
with done=True, finish_reason=stop and usage) on `infer.tokens.<request_id>`. Each chunk's token
text is `t=<time.time_ns() at publish>;` so a client can compute the per-token latency.

The request's prompt chooses the pace: `interval_us=0` (or any other prompt) publishes as fast as
possible, yielding to the event loop after every chunk so that concurrent streams interleave;
`interval_us=N` publishes on a fixed schedule, one chunk every N microseconds per stream.
Stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

from nats.aio.client import Client
from nats.aio.msg import Msg

import nats
from messages import Accept, FinishReason, GenerateRequest, TokenChunk, Usage, decode, encode, subjects

_INTERVAL = re.compile(r"interval_us=(\d+)")


async def _stream(nc: Client, request_id: str, count: int, interval_us: int) -> None:
    subject = subjects.tokens_subject(request_id)
    start = time.perf_counter()
    for seq in range(count):
        if interval_us:
            delay = start + seq * interval_us / 1e6 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        last = seq == count - 1
        chunk = TokenChunk(
            request_id=request_id,
            seq=seq,
            token=f"t={time.time_ns()};",
            done=last,
            finish_reason=FinishReason.STOP if last else None,
            usage=Usage(prompt_tokens=1, completion_tokens=count) if last else None,
        )
        await nc.publish(subject, encode(chunk))
        if not interval_us:
            await asyncio.sleep(0)  # let the flusher and the other streams run
    await nc.flush()


async def main() -> None:
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"), name="bench-token-source")
    tasks: set[asyncio.Task[None]] = set()

    async def on_generate(msg: Msg) -> None:
        request = decode(msg.data, GenerateRequest)
        found = _INTERVAL.search(request.prompt or "")
        interval_us = int(found.group(1)) if found else 0
        count = request.params.max_new_tokens
        accept = Accept(request_id=request.request_id, worker_id="synthetic", prompt_tokens=1, max_new_tokens=count)
        await msg.respond(encode(accept))
        task = asyncio.create_task(_stream(nc, request.request_id, count, interval_us))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    await nc.subscribe(subjects.INFERENCE_GENERATE, queue=subjects.INFERENCE_QUEUE, cb=on_generate)
    await nc.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("token source ready", flush=True)
    await stop.wait()
    for task in list(tasks):
        task.cancel()
    await nc.drain()


if __name__ == "__main__":
    asyncio.run(main())
