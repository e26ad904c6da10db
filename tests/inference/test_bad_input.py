"""Bad input gets a typed error reply and the worker keeps serving."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from messages import Accept, ErrorCode, ErrorMessage, GenerateReply, decode, describe, subjects
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings
from tests.support.nats_client import generate


@pytest.fixture(scope="module")
async def tiny_worker(base_settings: Settings, tiny_model: object) -> AsyncIterator[Settings]:
    settings = worker_settings(base_settings, model_id=str(tiny_model))
    async with running(InferenceActor(settings, InferenceConfig(max_concurrency=2)), settings):
        yield settings


async def raw(nc: Client, payload: bytes) -> GenerateReply:
    msg = await nc.request(subjects.INFERENCE_GENERATE, payload, timeout=5)
    assert msg.headers and msg.headers.get("Nats-Service-Error-Code"), "micro error headers are set"
    return decode(msg.data, GenerateReply)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("payload", "code", "words"),
    [
        (b'{"request_id": "a1", "prompt": ""}', ErrorCode.BAD_REQUEST, "`prompt` must not be empty"),
        (b'{"request_id": "a2", "prompt": "   "}', ErrorCode.BAD_REQUEST, "`prompt` must not be empty"),
        (b'{"request_id": "a3"}', ErrorCode.BAD_REQUEST, "`prompt` must not be empty"),
        (
            b'{"request_id": "a4", "prompt": "hi", "colour": "red"}',
            ErrorCode.BAD_REQUEST,
            "`colour` is not something this request takes",
        ),
        (
            b'{"request_id": "a5", "prompt": "hi", "params": {"max_new_tokens": 0}}',
            ErrorCode.BAD_REQUEST,
            "must be at least 1",
        ),
        (
            b'{"request_id": "a6", "prompt": "hi", "params": {"max_new_tokens": 10000000}}',
            ErrorCode.BAD_REQUEST,
            "must be at most 8192",
        ),
        (b'{"request_id": "a7", "prompt": "hi", "params": {"temperature": -1}}', ErrorCode.BAD_REQUEST, "temperature"),
        (
            b'{"request_id": "a8", "prompt": "hi", "params": {"temperature": 1e308}}',
            ErrorCode.BAD_REQUEST,
            "must be at most 5.0",
        ),
        (b'{"request_id": "a9", "prompt": "hi", "params": {"top_p": 0}}', ErrorCode.BAD_REQUEST, "top_p"),
        (b'{"request_id": "b1", "prompt": "hi", "params": {"seed": -5}}', ErrorCode.BAD_REQUEST, "seed"),
        (
            b'{"request_id": "b2", "prompt": "hi", "messages": [{"role": "user", "content": "x"}]}',
            ErrorCode.BAD_REQUEST,
            "not both",
        ),
        (b'{"request_id": "b3", "messages": [{"role": "wizard", "content": "x"}]}', ErrorCode.BAD_REQUEST, "role"),
        (b'{"request_id": "b4", "messages": []}', ErrorCode.BAD_REQUEST, "`messages` must not be empty"),
        (b'{"request_id": "../etc", "prompt": "hi"}', ErrorCode.BAD_REQUEST, "request_id"),
        (b'{"request_id": "b5", "prompt": "hi", "adapter": "../x"}', ErrorCode.BAD_REQUEST, "adapter"),
        (b"not json", ErrorCode.BAD_REQUEST, "malformed JSON"),
        (b"[1, 2]", ErrorCode.BAD_REQUEST, "invalid request"),
    ],
)
async def test_bad_input_is_a_typed_error(
    nc: Client, tiny_worker: Settings, payload: bytes, code: ErrorCode, words: str
) -> None:
    reply = await raw(nc, payload)
    assert isinstance(reply, ErrorMessage)
    assert reply.code is code
    assert words in describe(reply.message, reply.field)


async def test_prompt_longer_than_the_context(nc: Client, tiny_worker: Settings) -> None:
    reply = await raw(nc, b'{"request_id": "c1", "prompt": "' + b"one two three " * 200 + b'"}')
    assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.CONTEXT_OVERFLOW
    assert "reads at most 256" in reply.message and reply.field == "prompt"


async def test_worker_keeps_serving_after_bad_input(nc: Client, tiny_worker: Settings) -> None:
    for _ in range(3):
        await raw(nc, b"garbage")
    reply, chunks = await generate(nc, "one two", max_new_tokens=8)
    assert isinstance(reply, Accept)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8


async def test_answer_is_clamped_to_the_context(nc: Client, tiny_worker: Settings) -> None:
    reply, chunks = await generate(nc, "one two three " * 30, max_new_tokens=8000)
    assert isinstance(reply, Accept)
    assert reply.prompt_tokens + reply.max_new_tokens == 256
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == reply.max_new_tokens
