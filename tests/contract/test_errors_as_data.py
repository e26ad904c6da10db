"""Errors as data: a refused request's field travels beside its message (`ErrorMessage.field`), set where
the service decodes the real message types with msgspec, and each API names it in its own terms from the
field alone (the GraphQL argument, OpenAI's param), never from the text."""

from __future__ import annotations

import msgspec
import pytest

import messages
import messages.fields
from messages import FineTuneSpec, GenerateRequest, GetJob, SwitchboardError, decode
from messages.adapters import RegisterAdapter
from messages.errors import ErrorCode, ErrorMessage
from messages.fields import PATTERN_RULES
from services.gateway.error_fields import graphql_argument, graphql_message, openai_message, openai_param
from services.gateway.graphql.schema import schema


def refusal(body: bytes, kind: type[object]) -> SwitchboardError:
    with pytest.raises(SwitchboardError) as caught:
        decode(body, kind)
    return caught.value


GENERATE = b'{"request_id": "r1", "prompt": "hi", %s}'
FINE_TUNE = b'{"job_id": "j1", "adapter_name": "a", %s}'


@pytest.mark.parametrize(
    ("kind", "body", "field", "words"),
    [
        (
            GenerateRequest,
            GENERATE % b'"params": {"max_new_tokens": 0}',
            "params.max_new_tokens",
            "`maxNewTokens` must be at least 1",
        ),
        (
            GenerateRequest,
            GENERATE % b'"params": {"max_new_tokens": 9999}',
            "params.max_new_tokens",
            "`maxNewTokens` must be at most 8192",
        ),
        (GenerateRequest, GENERATE % b'"params": {"top_p": 0}', "params.top_p", "`topP` must be greater than 0.0"),
        (
            GenerateRequest,
            GENERATE % b'"params": {"stop": ["a", ""]}',
            "params.stop[1]",
            "item 2 of `stop` must not be empty",
        ),
        (
            GenerateRequest,
            GENERATE % b'"params": {"stop": ["a","b","c","d","e","f","g","h","i"]}',
            "params.stop",
            "`stop` must have at most 8 items",
        ),
        (
            GenerateRequest,
            GENERATE % b'"params": {"seed": "x"}',
            "params.seed",
            "`seed` must be a whole number, not a string",
        ),
        (
            GenerateRequest,
            GENERATE % b'"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": 5}]',
            "messages[1].content",
            "`content` of item 2 of `messages` must be a string, not a whole number",
        ),
        (
            GenerateRequest,
            GENERATE % b'"adapter": "../etc"',
            "adapter",
            "`adapter` is not valid: use letters, digits, '.'",
        ),
        (GenerateRequest, GENERATE % b'"colour": "red"', "colour", "`colour` is not something this request takes"),
        (FineTuneSpec, FINE_TUNE % b'"dataset": ""', "dataset", "`datasetName` must not be empty"),
        (FineTuneSpec, FINE_TUNE % b'"learning_rate": -1', "learning_rate", "`learningRate` must be greater than 0.0"),
        (FineTuneSpec, FINE_TUNE % b'"num_epochs": "two"', "num_epochs", "`numEpochs` must be a number, not a string"),
        (FineTuneSpec, b'{"job_id": "j1"}', "adapter_name", "`adapterName` is required"),
        (GetJob, b'{"job_id": "\\u2026"}', "job_id", "`jobId` is not valid: use letters, digits, '_' and '-', 1 to 64"),
        (RegisterAdapter, b'{"meta": {"name": "a"}}', "meta.base_model", "`baseModel` is required"),
    ],
)
def test_validation_errors_carry_their_field(kind: type[object], body: bytes, field: str, words: str) -> None:
    exc = refusal(body, kind)
    assert (exc.code, exc.field) == (ErrorCode.BAD_REQUEST, field)
    assert "`" not in exc.message and "$." not in exc.message  # says what is wrong, names nothing
    on_the_wire = decode(messages.encode(exc.to_message()), ErrorMessage)
    assert SwitchboardError.from_message(on_the_wire).field == field
    worded = graphql_message(SwitchboardError.from_message(on_the_wire))
    assert words in worded
    assert "Expected `" not in worded


def test_every_pattern_in_the_messages_has_its_rules_in_words() -> None:
    """A pattern added to a message without words would reach users as "not in the form it must have"."""
    patterns: set[str] = set()
    for name in messages.__all__:
        value = getattr(messages, name)
        if isinstance(value, type) and issubclass(value, msgspec.Struct):
            for field in msgspec.inspect.type_info(value).fields:  # type: ignore[attr-defined]
                _patterns_in(field.type, patterns)
    assert messages.fields.ADAPTER_NAME_PATTERN in patterns, "the walk missed a known pattern"
    assert patterns <= set(PATTERN_RULES), patterns - set(PATTERN_RULES)


def _patterns_in(info: object, found: set[str]) -> None:
    if isinstance(info, msgspec.inspect.StrType) and info.pattern:
        found.add(info.pattern)
    for attr in ("item_type", "types", "fields"):
        child = getattr(info, attr, None)
        for each in child if isinstance(child, tuple) else [child] if child is not None else []:
            _patterns_in(getattr(each, "type", each), found)


def test_an_error_about_nothing_in_particular_omits_the_field() -> None:
    exc = refusal(b"[1, 2]", GenerateRequest)
    assert exc.field is None and exc.message == "invalid request: the request must be an object, not a list"
    assert b"field" not in messages.encode(exc.to_message())
    assert graphql_message(exc) == exc.message and graphql_argument(exc.field) is None


@pytest.mark.parametrize(
    ("field", "argument", "param"),
    [
        ("params.max_new_tokens", "maxNewTokens", "max_tokens"),
        ("params.stop[3]", "stop", "stop"),
        ("messages[1].content", "messages", "messages[1].content"),
        ("prompt", "prompt", "prompt"),
        ("adapter", "adapter", "model"),
        ("dataset", "datasetName", "dataset"),
        ("meta.name", "adapterName", "name"),
        ("job_id", "jobId", "job_id"),
        (None, None, None),
    ],
)
def test_each_api_names_the_field_its_own_way(field: str | None, argument: str | None, param: str | None) -> None:
    assert graphql_argument(field) == argument
    assert openai_param(field) == param


def test_openai_messages_use_openai_names() -> None:
    exc = refusal(GENERATE % b'"params": {"max_new_tokens": 0}', GenerateRequest)
    assert openai_message(exc) == "`max_tokens` must be at least 1"


@pytest.mark.parametrize(
    ("exc", "worded"),
    [
        (
            SwitchboardError(ErrorCode.NOT_FOUND, "names no job ('x')", "job_id"),
            "`jobId` names no job ('x'); `fineTuneJobs` lists them",
        ),
        (
            SwitchboardError(ErrorCode.ADAPTER_MISSING, "names no saved adapter ('x')", "adapter"),
            "`adapter` names no saved adapter ('x'); `adapters` lists them",
        ),
        (SwitchboardError(ErrorCode.BUSY, "the worker is busy; try again"), "the worker is busy; try again"),
    ],
)
def test_not_found_points_to_the_list(exc: SwitchboardError, worded: str) -> None:
    assert graphql_message(exc) == worded


@pytest.mark.parametrize(
    ("query", "variables", "argument"),
    [
        ('mutation { infer(prompt: "hi", maxNewTokens: "x") { text } }', None, "maxNewTokens"),
        ('mutation { infer(prompt: "hi", seed: 4294967295) { text } }', None, "seed"),
        ('mutation { infer(prompt: "hi", messages: [{role: WIZARD, content: "x"}]) { text } }', None, "messages"),
        ('mutation { infer(prompt: "hi", colour: "red") { text } }', None, "colour"),
        ('mutation($n: Int) { infer(prompt: "hi", maxNewTokens: $n) { text } }', {"n": "abc"}, "maxNewTokens"),
        (
            'mutation($m: [ChatMessageInput!]) { infer(prompt: "hi", messages: $m) { text } }',
            {"m": [{"role": "WIZARD", "content": "x"}]},
            "messages",
        ),
    ],
)
async def test_values_graphql_rejects_name_their_argument(
    query: str, variables: dict[str, object] | None, argument: str
) -> None:
    """Found in the document's syntax tree: the argument a rejected literal or variable is passed to."""
    result = await schema.execute(query, variable_values=variables)
    assert result.errors is not None
    (error,) = result.errors
    assert error.extensions == {"code": "BAD_REQUEST", "argument": argument}
