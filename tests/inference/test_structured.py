"""Structured output through NATS on the bundled model: a JSON-schema answer parses and validates, a regex
answer matches, a choice answer is one of the choices; a schema or regex the grammar engine cannot compile
(or one past the size limit) is refused `bad_request` on `constraint` before any chunk; constrained and free
rows, on an adapter and the base model, share a batch and each answers as alone; the worker counts them."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import jsonschema
import pytest
from nats.aio.client import Client

from messages import (
    Accept,
    ChoiceConstraint,
    Constraint,
    ErrorCode,
    ErrorMessage,
    FinishReason,
    FunctionTool,
    GenerateRequest,
    GenerationParams,
    JsonConstraint,
    RegexConstraint,
    TokenChunk,
    ToolChoice,
)
from services.adapters import AdaptersActor, AdaptersConfig
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from services.runtime.metrics import gather
from services.runtime.testing import make_lora, register_adapter
from tests.conftest import worker_settings
from tests.support.nats_client import collect, new_id, start, text_of

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
PHONE = r"\d{3}-\d{4}"
DEEP = 160  # INFERENCE_MAX_SCHEMA_DEPTH here: such a schema takes a second or more to compile


def nested(levels: int) -> dict[str, object]:
    schema: dict[str, object] = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


@pytest.fixture(scope="module")
def nc(own_nc: Client) -> Client:
    return own_nc


@pytest.fixture(scope="module")
async def adapter(nc: Client, own_settings: Settings, bundled_model: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real registry with one LoRA adapter for the bundled model; yields its name."""
    registry = worker_settings(own_settings)
    config = AdaptersConfig(base_model_id="HuggingFaceTB/SmolLM2-135M-Instruct")
    async with running(AdaptersActor(registry, config), registry):
        folder = await asyncio.to_thread(make_lora, bundled_model, tmp_path_factory.mktemp("shaped"), 0)
        await register_adapter(nc, "shaped", folder)
        yield "shaped"


@pytest.fixture(scope="module")
async def worker(own_settings: Settings, bundled_model: object, adapter: str) -> AsyncIterator[Settings]:
    settings = worker_settings(own_settings)
    async with running(
        InferenceActor(settings, InferenceConfig(max_concurrency=4, warm_up=False, max_schema_depth=DEEP)), settings
    ):
        yield settings


def constrained(prompt: str, constraint: Constraint | None, adapter: str | None = None) -> GenerateRequest:
    return GenerateRequest(
        request_id=new_id(),
        prompt=prompt,
        constraint=constraint,
        adapter=adapter,
        params=GenerationParams(max_new_tokens=48),
    )


async def answer(nc: Client, request: GenerateRequest) -> list[TokenChunk]:
    reply, sub = await start(nc, request)
    assert isinstance(reply, Accept), reply
    chunks = await collect(sub)
    assert chunks[-1].error is None, chunks[-1].error
    return chunks


async def test_a_json_schema_answer_parses_and_validates(nc: Client, worker: Settings) -> None:
    chunks = await answer(nc, constrained("Describe a person as JSON.", JsonConstraint(PERSON)))
    assert chunks[-1].finish_reason is FinishReason.STOP, text_of(chunks)
    jsonschema.validate(json.loads(text_of(chunks)), PERSON)


async def test_a_json_object_answer_is_an_object(nc: Client, worker: Settings) -> None:
    chunks = await answer(nc, constrained("Give me a JSON object with your name.", JsonConstraint()))
    text = text_of(chunks)
    assert text.startswith("{")
    if chunks[-1].finish_reason is FinishReason.STOP:
        assert isinstance(json.loads(text), dict)


async def test_a_regex_answer_matches(nc: Client, worker: Settings) -> None:
    chunks = await answer(nc, constrained("Give me a phone number.", RegexConstraint(PHONE)))
    assert chunks[-1].finish_reason is FinishReason.STOP
    assert re.fullmatch(PHONE, text_of(chunks)), text_of(chunks)


async def test_a_choice_answer_is_one_of_the_choices(nc: Client, worker: Settings) -> None:
    choices = ["sunny", "rainy", 'a "quoted" fog']
    chunks = await answer(nc, constrained("What is the weather like?", ChoiceConstraint(choices)))
    assert chunks[-1].finish_reason is FinishReason.STOP
    assert text_of(chunks) in choices


@pytest.mark.parametrize(
    ("constraint", "words"),
    [
        (JsonConstraint({"type": "object", "properties": {"a": {"type": "nope"}}}), "JSON schema"),
        (JsonConstraint({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}), "JSON schema"),
        (RegexConstraint("(ab"), "regex"),
        (JsonConstraint({"description": "x" * 40_000}), "INFERENCE_MAX_CONSTRAINT_CHARS"),
        (JsonConstraint({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}), "uniqueItems"),
        (JsonConstraint(nested(DEEP + 1)), "INFERENCE_MAX_SCHEMA_DEPTH"),
    ],
)
async def test_a_constraint_the_engine_cannot_use_is_refused_before_any_chunk(
    nc: Client, worker: Settings, constraint: Constraint, words: str
) -> None:
    reply, sub = await start(nc, constrained("Hello", constraint))
    try:
        assert isinstance(reply, ErrorMessage), reply
        assert (reply.code, reply.field) == (ErrorCode.BAD_REQUEST, "constraint")
        assert words in reply.message
        with pytest.raises(TimeoutError):
            await sub.next_msg(timeout=0.3)
    finally:
        await sub.unsubscribe()


async def test_constrained_and_free_rows_on_an_adapter_and_the_base_model_answer_as_alone(
    nc: Client, worker: Settings, adapter: str
) -> None:
    requests = [
        lambda: constrained("Describe a person as JSON.", JsonConstraint(PERSON), adapter),
        lambda: GenerateRequest(
            request_id=new_id(),
            prompt="Why is the sky blue?",
            base_model=True,
            params=GenerationParams(max_new_tokens=24),
        ),
        lambda: constrained("My phone number is", RegexConstraint(PHONE)),
    ]
    alone = [text_of(await answer(nc, make())) for make in requests]
    started = [await start(nc, make()) for make in requests]  # all three admitted before any ends
    assert all(isinstance(reply, Accept) for reply, _ in started)
    together = [text_of(await collect(sub)) for _, sub in started]
    assert together == alone
    assert re.fullmatch(PHONE, together[2])
    figures = (await gather(nc, 0.5)).decode()
    assert re.search(r'switchboard_inference_constrained_requests_total\{[^}]*kind="json_schema"[^}]*\} [1-9]', figures)
    assert "switchboard_inference_grammar_compile_seconds_bucket" in figures


async def test_a_slow_compile_holds_up_no_other_request(nc: Client, worker: Settings) -> None:
    deep = GenerateRequest(
        request_id=new_id(),
        prompt="Hello",
        constraint=JsonConstraint(nested(DEEP)),
        params=GenerationParams(max_new_tokens=1),
    )
    free = GenerateRequest(request_id=new_id(), prompt="Hello", params=GenerationParams(max_new_tokens=1))
    order: list[str] = []

    async def admitted(request: GenerateRequest) -> None:
        reply, sub = await start(nc, request, timeout=60)
        assert isinstance(reply, Accept), reply
        order.append(request.request_id)
        await collect(sub)

    slow = asyncio.create_task(admitted(deep))
    await asyncio.sleep(0.05)  # the deep schema reaches the worker first
    await admitted(free)
    await slow
    assert order == [free.request_id, deep.request_id]


@pytest.mark.parametrize("temperature", [0.0, 0.8])
async def test_a_regex_no_text_can_complete_ends_at_once_as_a_bad_request(
    nc: Client, worker: Settings, temperature: float
) -> None:
    params = GenerationParams(max_new_tokens=32, temperature=temperature, seed=1, logprobs=True, n=2)
    dead = GenerateRequest(request_id=new_id(), prompt="Hi", constraint=RegexConstraint(r"a[^\s\S]"), params=params)
    free = GenerateRequest(
        request_id=new_id(), prompt="Why is the sky blue?", params=GenerationParams(max_new_tokens=8)
    )
    (dead_reply, dead_sub), (free_reply, free_sub) = [await start(nc, dead), await start(nc, free)]
    assert isinstance(dead_reply, Accept) and isinstance(free_reply, Accept)
    chunks = await collect(dead_sub)
    final = chunks[-1]
    assert final.error is not None, text_of(chunks)
    assert (final.error.code, final.error.field) == (ErrorCode.BAD_REQUEST, "constraint")
    assert "can never be completed" in final.error.message
    assert text_of(chunks) in ("", "a", "aa")  # one token, per answer, before the dead end
    assert all(entry.logprob <= 0 for chunk in chunks for entry in chunk.logprobs or [])
    answered = await collect(free_sub)  # the batch it shared goes on
    assert answered[-1].error is None and text_of(answered)


@pytest.mark.parametrize("parameters", [None, {}])
async def test_a_forced_call_of_a_function_without_parameters_has_no_arguments(
    nc: Client, worker: Settings, parameters: dict[str, object] | None
) -> None:
    request = GenerateRequest(
        request_id=new_id(),
        prompt="Weather in Paris?",
        tools=[FunctionTool(name="f", parameters=parameters)],
        tool_choice=ToolChoice(mode="required"),
        params=GenerationParams(max_new_tokens=48),
    )
    chunks = await answer(nc, request)
    calls = [call for chunk in chunks for call in chunk.tool_calls or []]
    assert chunks[-1].finish_reason is FinishReason.TOOL_CALLS, text_of(chunks)  # it wrote blanks to max_tokens
    assert [(call.name, call.arguments) for call in calls] == [("f", "{}")]
