"""Test helpers that speak the inference protocol directly over NATS, as any client could: ask for a generation,
collect its chunks from `tokens.<request_id>`, or read them back from stream TOKENS."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.js.api import ConsumerConfig, DeliverPolicy

from messages import Accept, GenerateReply, GenerateRequest, GenerationParams, TokenChunk, decode, encode, subjects
from services.runtime.call import NO_RESPONDER_RETRIES


def new_id() -> str:
    return uuid.uuid4().hex


async def start(nc: Client, request: GenerateRequest, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Subscribe to the request's tokens, then ask for the generation. Returns (reply, subscription)."""
    sub = await nc.subscribe(subjects.tokens_subject(request.request_id))
    for delay in NO_RESPONDER_RETRIES:  # a worker that just started may not be routable for a moment
        with contextlib.suppress(NoRespondersError):
            msg = await nc.request(subjects.INFERENCE_GENERATE, encode(request), timeout=timeout)
            break
        await asyncio.sleep(delay)
    else:
        msg = await nc.request(subjects.INFERENCE_GENERATE, encode(request), timeout=timeout)
    return decode(msg.data, GenerateReply), sub  # type: ignore[arg-type]


async def collect(sub, timeout: float = 60.0) -> list[TokenChunk]:  # type: ignore[no-untyped-def]
    chunks: list[TokenChunk] = []
    while True:
        msg = await sub.next_msg(timeout=timeout)
        chunk = decode(msg.data, TokenChunk)
        chunks.append(chunk)
        if chunk.done:
            await sub.unsubscribe()
            return chunks


async def generate(nc: Client, prompt: str, **params: object) -> tuple[GenerateReply, list[TokenChunk]]:
    request = GenerateRequest(request_id=new_id(), prompt=prompt, params=GenerationParams(**params))  # type: ignore[arg-type]
    reply, sub = await start(nc, request)
    if not isinstance(reply, Accept):
        await sub.unsubscribe()
        return reply, []
    return reply, await collect(sub)


def text_of(chunks: list[TokenChunk]) -> str:
    return "".join(c.token for c in chunks)


async def final_chunk(nc: Client, request_id: str) -> TokenChunk:
    """Read the generation's last chunk back from stream TOKENS (waits for it)."""
    sub = await nc.jetstream().subscribe(
        subjects.tokens_subject(request_id),
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    try:
        while True:
            chunk = decode((await sub.next_msg(timeout=15)).data, TokenChunk)
            if chunk.done:
                return chunk
    finally:
        await sub.unsubscribe()
