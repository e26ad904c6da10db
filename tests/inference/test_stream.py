"""The bundled model streams an answer token by token on infer.tokens.<id>, replayable from TOKENS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from messages import (
    Accept,
    Cancel,
    FinishReason,
    GenerateRequest,
    GenerationParams,
    TokenChunk,
    decode,
    encode,
    subjects,
)
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings
from tests.support.nats_client import collect, generate, new_id, start, text_of


@pytest.fixture(scope="module")
async def bundled_worker(base_settings: Settings, bundled_model: object) -> AsyncIterator[Settings]:
    settings = worker_settings(base_settings)
    async with running(InferenceActor(settings, InferenceConfig(max_concurrency=2)), settings):
        yield settings


async def test_capital_of_france_streams_paris(nc: Client, bundled_worker: Settings) -> None:
    reply, chunks = await generate(nc, "What is the capital of France?", max_new_tokens=40)
    assert isinstance(reply, Accept)
    assert reply.worker_id == bundled_worker.worker_id
    assert reply.prompt_tokens > 5
    assert "Paris" in text_of(chunks)
    assert len(chunks) > 3, "the answer should arrive in several chunks"
    final = chunks[-1]
    assert final.done and final.finish_reason is FinishReason.STOP
    assert final.usage is not None and final.usage.completion_tokens >= len(chunks) - 1


async def test_seq_is_in_order_with_no_gaps(nc: Client, bundled_worker: Settings) -> None:
    _, chunks = await generate(nc, "Count from one to twenty.", max_new_tokens=48)
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    assert [c.done for c in chunks].count(True) == 1 and chunks[-1].done


async def test_length_limit_finishes_with_length(nc: Client, bundled_worker: Settings) -> None:
    _, chunks = await generate(nc, "Write a long story about a dragon.", max_new_tokens=5)
    final = chunks[-1]
    assert final.finish_reason is FinishReason.LENGTH
    assert final.usage is not None and final.usage.completion_tokens == 5


async def test_stop_string_cuts_the_answer(nc: Client, bundled_worker: Settings) -> None:
    _, chunks = await generate(nc, "What is the capital of France?", max_new_tokens=40, stop=["Paris"])
    assert chunks[-1].finish_reason is FinishReason.STOP_STRING
    assert "Paris" not in text_of(chunks)
    assert "capital" in text_of(chunks)


async def test_chat_messages_follow_up(nc: Client, bundled_worker: Settings) -> None:
    from messages import ChatMessage, GenerateRequest, GenerationParams
    from tests.support.nats_client import collect, new_id, start

    request = GenerateRequest(
        request_id=new_id(),
        messages=[
            ChatMessage(role="user", content="What is the capital of France?"),
            ChatMessage(role="assistant", content="The capital of France is Paris."),
            ChatMessage(role="user", content="And what is the capital of Germany?"),
        ],
        params=GenerationParams(max_new_tokens=30),
    )
    reply, sub = await start(nc, request)
    assert isinstance(reply, Accept)
    assert "Berlin" in text_of(await collect(sub))


async def test_tokens_replay_from_stream(nc: Client, bundled_worker: Settings) -> None:
    reply, chunks = await generate(nc, "Say hello.", max_new_tokens=12)
    assert isinstance(reply, Accept)
    js = nc.jetstream()
    sub = await js.subscribe(
        subjects.tokens_subject(reply.request_id),
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    replayed: list[TokenChunk] = []
    while not replayed or not replayed[-1].done:
        msg = await sub.next_msg(timeout=5)
        replayed.append(decode(msg.data, TokenChunk))
    await sub.unsubscribe()
    assert [encode(c) for c in replayed] == [encode(c) for c in chunks]


async def test_info_describes_the_model(nc: Client, bundled_worker: Settings) -> None:
    from messages import ModelInfo

    msg = await nc.request(subjects.INFERENCE_INFO, b"", timeout=5)
    info = decode(msg.data, ModelInfo)
    assert info.model_id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert info.device == "cpu" and info.state == "ready" and info.context_length == 8192


async def test_info_shows_the_engine_and_its_occupancy(nc: Client, bundled_worker: Settings) -> None:
    from messages import ModelInfo

    async def info() -> ModelInfo:
        return decode((await nc.request(subjects.INFERENCE_INFO, b"", timeout=5)).data, ModelInfo)

    idle = await info()
    assert idle.engine == "batched" and idle.dtype == "float32" and idle.threads >= 1
    assert (idle.batch_size, idle.waiting, idle.active_generations, idle.kv_cache_mb) == (0, 0, 0, 0.0)
    assert idle.kv_cache_limit_mb == 2048
    request = GenerateRequest(
        request_id=new_id(), prompt="Write a long story about a dragon.", params=GenerationParams(max_new_tokens=200)
    )
    reply, sub = await start(nc, request)
    assert isinstance(reply, Accept)
    await sub.next_msg(timeout=30)  # decoding now
    busy = await info()
    await nc.publish(subjects.cancel_subject(request.request_id), encode(Cancel(request.request_id)))
    await collect(sub)
    assert busy.batch_size == 1 and busy.active_generations == 1 and busy.kv_cache_mb > 0
