"""`n` answers to one prompt through NATS on the bundled model: one prefill, n rows; every chunk names its
answer (`index`), each answer ends with its own `finish_reason`, the last chunk counts the prompt once and
every answer's tokens; a seeded request repeats exactly; a cancel ends every answer; `n` past the worker's
limit is refused; the sequential engine refuses n, logprobs and constraints."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from messages import (
    Accept,
    Cancel,
    ErrorCode,
    ErrorMessage,
    FinishReason,
    GenerateRequest,
    GenerationParams,
    RegexConstraint,
    TokenChunk,
    encode,
    subjects,
)
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings
from tests.support.nats_client import collect, new_id, start

PROMPT = "Give me a name for a pet turtle."


@pytest.fixture(scope="module")
async def worker(base_settings: Settings, bundled_model: object) -> AsyncIterator[Settings]:
    settings = worker_settings(base_settings)
    config = InferenceConfig(max_concurrency=2, max_choices=4, warm_up=False)
    async with running(InferenceActor(settings, config), settings):
        yield settings


def ask(**params: object) -> GenerateRequest:
    return GenerateRequest(request_id=new_id(), prompt=PROMPT, params=GenerationParams(**params))  # type: ignore[arg-type]


async def answer(nc: Client, request: GenerateRequest) -> list[TokenChunk]:
    reply, sub = await start(nc, request)
    assert isinstance(reply, Accept), reply
    return await collect(sub)


def texts(chunks: list[TokenChunk], n: int) -> list[str]:
    return ["".join(c.token for c in chunks if c.index == i) for i in range(n)]


def ends(chunks: list[TokenChunk]) -> dict[int, FinishReason]:
    found = {c.index: c.finish_reason for c in chunks if c.finish_reason is not None}
    assert len(found) == len([c for c in chunks if c.finish_reason is not None]), "one end per answer"
    return found  # type: ignore[return-value]


async def test_three_answers_each_finish_and_usage_sums_them(nc: Client, worker: Settings) -> None:
    chunks = await answer(nc, ask(n=3, max_new_tokens=24, temperature=1.0))
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    assert [c.done for c in chunks].count(True) == 1 and chunks[-1].done
    assert {c.index for c in chunks} == {0, 1, 2}
    finished = ends(chunks)
    assert set(finished) == {0, 1, 2}
    assert all(reason in (FinishReason.STOP, FinishReason.LENGTH) for reason in finished.values())
    alone = (await answer(nc, ask(max_new_tokens=24)))[-1].usage
    usage = chunks[-1].usage
    assert usage is not None and alone is not None and usage.prompt_tokens == alone.prompt_tokens
    assert len(set(texts(chunks, 3))) > 1, "three samples differ"
    assert 3 <= usage.completion_tokens <= 72


async def test_a_seeded_request_for_two_answers_repeats_exactly(nc: Client, worker: Settings) -> None:
    first = await answer(nc, ask(n=2, max_new_tokens=20, temperature=0.9, seed=42))
    again = await answer(nc, ask(n=2, max_new_tokens=20, temperature=0.9, seed=42))
    assert texts(first, 2) == texts(again, 2)
    assert texts(first, 2)[0] != texts(first, 2)[1], "answer i samples with seed + i"
    lone = await answer(nc, ask(max_new_tokens=20, temperature=0.9, seed=42))
    assert texts(lone, 1)[0] == texts(first, 2)[0], "answer 0 is the lone answer of the same seed"


async def test_constrained_answers_each_match(nc: Client, worker: Settings) -> None:
    request = GenerateRequest(
        request_id=new_id(),
        prompt="My phone number is",
        constraint=RegexConstraint(r"\d{3}-\d{4}"),
        params=GenerationParams(n=2, max_new_tokens=12, temperature=1.0, seed=7),
    )
    chunks = await answer(nc, request)
    assert all(len(text) == 8 and text[3] == "-" for text in texts(chunks, 2)), texts(chunks, 2)
    assert ends(chunks) == {0: FinishReason.STOP, 1: FinishReason.STOP}


async def test_a_cancel_ends_every_answer(nc: Client, worker: Settings) -> None:
    request = ask(n=3, max_new_tokens=400, temperature=1.0)
    reply, sub = await start(nc, request)
    assert isinstance(reply, Accept)
    await sub.next_msg(timeout=30)  # decoding
    await nc.publish(subjects.cancel_subject(request.request_id), encode(Cancel(request.request_id)))
    chunks = await asyncio.wait_for(collect(sub), 30)
    assert ends(chunks) == dict.fromkeys(range(3), FinishReason.CANCELLED)
    assert chunks[-1].done and chunks[-1].usage is not None


async def test_n_past_the_limit_is_refused(nc: Client, worker: Settings) -> None:
    reply, sub = await start(nc, ask(n=5))
    await sub.unsubscribe()
    assert isinstance(reply, ErrorMessage)
    assert (reply.code, reply.field) == (ErrorCode.BAD_REQUEST, "params.n")
    assert "INFERENCE_MAX_CHOICES" in reply.message


@pytest.mark.parametrize(
    ("constraint", "params", "field"),
    [
        (RegexConstraint("[ab]+"), GenerationParams(), "constraint"),
        (None, GenerationParams(n=2), "params.n"),
        (None, GenerationParams(top_logprobs=2), "params.top_logprobs"),
    ],
)
async def test_the_sequential_engine_refuses_what_only_the_batched_one_runs(
    own_nc: Client,
    own_settings: Settings,
    tiny_model: object,
    constraint: RegexConstraint | None,
    params: GenerationParams,
    field: str,
) -> None:
    settings = worker_settings(own_settings, model_id=str(tiny_model))
    async with running(InferenceActor(settings, InferenceConfig(engine="sequential", warm_up=False)), settings):
        request = GenerateRequest(request_id=new_id(), prompt="hi", constraint=constraint, params=params)
        reply, sub = await start(own_nc, request)
        await sub.unsubscribe()
    assert isinstance(reply, ErrorMessage)
    assert (reply.code, reply.field) == (ErrorCode.BAD_REQUEST, field)
    assert "INFERENCE_ENGINE=batched" in reply.message
