"""Structured output through `/v1`: `response_format` (json_object, json_schema, text), vLLM's
`structured_outputs` and `guided_*` become the request's constraint; the openai client's `parse` and LangChain's
`with_structured_output` get their object back; every malformed or oversized ask is a 400 naming `param`, and
so is the worker's own refusal of a schema. Against a scripted worker (tests/openai/scripted.py)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from messages import ErrorCode, ErrorMessage
from messages.inference import ChoiceConstraint, JsonConstraint, RegexConstraint
from tests.openai.scripted import MODEL, SCRIPTS, ScriptedV1, turn
from tests.support.scripted_worker import Script


class City(BaseModel):
    name: str
    population: int


CITY = '{"name": "Paris", "population": 2100000}'


@pytest.fixture
def client(v1: ScriptedV1) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=v1.url, api_key="unused", max_retries=0)


async def test_json_schema_parses_into_the_clients_model(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["city?"] = Script(['{"name": "Pa', 'ris", "population": 2100000}'])
    done = await client.chat.completions.parse(model=MODEL, messages=turn("city?"), response_format=City)
    assert done.choices[0].message.parsed == City(name="Paris", population=2100000)
    constraint = v1.asked("city?").constraint
    assert isinstance(constraint, JsonConstraint) and constraint.schema is not None
    assert set(constraint.schema["properties"]) == {"name", "population"}
    assert constraint.schema["required"] == ["name", "population"]


async def test_json_object_and_text(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["any json"] = Script(["{}"])
    await client.chat.completions.create(
        model=MODEL, messages=turn("any json"), response_format={"type": "json_object"}
    )
    assert v1.asked("any json").constraint == JsonConstraint(schema=None)
    await client.chat.completions.create(model=MODEL, messages=turn("plain"), response_format={"type": "text"})
    assert v1.asked("plain").constraint is None


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"structured_outputs": {"regex": "[0-9]+"}}, RegexConstraint("[0-9]+")),
        ({"structured_outputs": {"choice": ["yes", "no"]}}, ChoiceConstraint(["yes", "no"])),
        ({"structured_outputs": {"json": {"type": "object"}}}, JsonConstraint({"type": "object"})),
        ({"structured_outputs": {"json": '{"type": "object"}'}}, JsonConstraint({"type": "object"})),
        ({"guided_choice": ["a", "b"]}, ChoiceConstraint(["a", "b"])),
        ({"guided_regex": "x+"}, RegexConstraint("x+")),
        ({"guided_json": {"type": "object"}}, JsonConstraint({"type": "object"})),
    ],
)
async def test_vllm_extensions(
    client: openai.AsyncOpenAI, v1: ScriptedV1, extra: dict[str, object], expected: object
) -> None:
    key = f"vllm {json.dumps(extra)}"
    await client.chat.completions.create(model=MODEL, messages=turn(key), extra_body=extra)
    assert v1.asked(key).constraint == expected


async def test_plain_completions_take_a_constraint(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["yes or no"] = Script(["yes"])
    done = await client.completions.create(
        model=MODEL, prompt="yes or no", extra_body={"structured_outputs": {"choice": ["yes", "no"]}}
    )
    assert done.choices[0].text == "yes"
    assert v1.asked("yes or no").constraint == ChoiceConstraint(["yes", "no"])


async def test_langchain_with_structured_output(v1: ScriptedV1) -> None:
    SCRIPTS["Which city? (langchain)"] = Script([CITY])
    llm = ChatOpenAI(model=MODEL, base_url=v1.url, api_key="unused", max_retries=0)  # type: ignore[arg-type]
    structured = llm.with_structured_output(City, method="json_schema")
    assert await structured.ainvoke("Which city? (langchain)") == City(name="Paris", population=2100000)
    constraint = v1.asked("Which city? (langchain)").constraint
    assert isinstance(constraint, JsonConstraint) and constraint.schema is not None
    assert constraint.schema["properties"]["population"]["type"] == "integer"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"response_format": {"type": "xml"}}, "response_format"),
        ({"response_format": {"type": "json_schema"}}, "response_format"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": [1]}}},
            "response_format.json_schema.schema",
        ),
        # OpenAI requires a name: a-z, A-Z, 0-9, _ and -, up to 64
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
            "response_format.json_schema.name",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "a city", "schema": {}}}},
            "response_format.json_schema.name",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x" * 65, "schema": {}}}},
            "response_format.json_schema.name",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": "yes"}}},
            "response_format.json_schema.strict",
        ),
        ({"response_format": {"type": "json_object", "extra": 1}}, "response_format"),
        ({"response_format": "json"}, "response_format"),
        ({"structured_outputs": {"regex": "a", "choice": ["a"]}}, "structured_outputs"),
        ({"structured_outputs": {"grammar": "root ::= x"}}, "structured_outputs"),
        ({"structured_outputs": {"choice": []}}, "structured_outputs.choice"),
        ({"structured_outputs": {"regex": ""}}, "structured_outputs.regex"),
        ({"structured_outputs": {"json": 3}}, "structured_outputs.json"),
        ({"guided_choice": "yes"}, "guided_choice"),
        ({"response_format": {"type": "json_object"}, "guided_regex": "a"}, "guided_regex"),
        # over the gateway's GATEWAY_MAX_SCHEMA_CHARS (2000 here)
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "big", "schema": {"description": "x" * 3000}},
                }
            },
            "response_format",
        ),
    ],
)
async def test_bad_constraints_are_400_naming_the_param(
    client: openai.AsyncOpenAI, extra: dict[str, object], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=turn("refused"), extra_body=extra)
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == param and body["message"], body


async def test_a_schema_the_worker_cannot_compile_is_a_400_on_response_format(client: openai.AsyncOpenAI) -> None:
    SCRIPTS["uncompilable"] = Script([], refuse=ErrorMessage(ErrorCode.BAD_REQUEST, "cannot be compiled", "constraint"))
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model=MODEL, messages=turn("uncompilable"), response_format={"type": "json_object"}
        )
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == "response_format"
    assert body["message"] == "`response_format` cannot be compiled"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"structured_outputs": {"regex": "("}}, "structured_outputs.regex"),
        ({"structured_outputs": {"choice": ["a"]}}, "structured_outputs.choice"),
        ({"structured_outputs": {"json": {"type": "object"}}}, "structured_outputs.json"),
        ({"guided_regex": "("}, "guided_regex"),
        ({"guided_choice": ["a"]}, "guided_choice"),
        ({"guided_json": {"type": "object"}}, "guided_json"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_the_workers_refusal_names_the_field_that_asked(
    client: openai.AsyncOpenAI, extra: dict[str, object], param: str, stream: bool
) -> None:
    """The worker names the constraint `constraint` whichever field asked for it; the error names that field."""
    key = f"refused {json.dumps(extra)}"
    SCRIPTS[key] = Script([], refuse=ErrorMessage(ErrorCode.BAD_REQUEST, "cannot be compiled", "constraint"))
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=turn(key), stream=stream, extra_body=extra)
    body = caught.value.body
    assert isinstance(body, dict) and (body["param"], body["message"]) == (param, f"`{param}` cannot be compiled")


async def test_a_constraint_beside_a_forced_tool_call_names_the_constraint(client: openai.AsyncOpenAI) -> None:
    tool: Any = {"type": "function", "function": {"name": "f"}}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model=MODEL,
            messages=turn("refused"),
            tools=[tool],
            tool_choice="required",
            extra_body={"guided_regex": "a"},
        )
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == "guided_regex" and "forced tool call" in body["message"]


async def test_metrics_count_constrained_requests(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    await client.chat.completions.create(model=MODEL, messages=turn("counted"), extra_body={"guided_regex": "x"})
    async with aiohttp.ClientSession() as http, http.get(v1.url.replace("/v1", "/metrics")) as response:
        text = await response.text()
    counts = {
        line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("switchboard_gateway_constrained_requests_total{")
    }
    assert sum(value for labels, value in counts.items() if 'kind="regex"' in labels) >= 1, counts
