"""Service errors reworded for GraphQL callers: the real msgspec errors of the real messages, as sentences about
the argument the caller set; other messages keep their words."""

from __future__ import annotations

import msgspec
import pytest

import messages
import messages.fields
from messages import FineTuneSpec, GenerateRequest, GetJob, SwitchboardError, decode
from messages.adapters import RegisterAdapter
from messages.fields import PATTERN_RULES
from services.gateway.wording import for_graphql


def refusal(body: bytes, kind: type[object]) -> str:
    with pytest.raises(SwitchboardError) as caught:
        decode(body, kind)
    return caught.value.message


GENERATE = b'{"request_id": "r1", "prompt": "hi", %s}'
FINE_TUNE = b'{"job_id": "j1", "adapter_name": "a", %s}'


@pytest.mark.parametrize(
    ("kind", "body", "words"),
    [
        (GenerateRequest, GENERATE % b'"params": {"max_new_tokens": 0}', "`maxNewTokens` must be at least 1"),
        (GenerateRequest, GENERATE % b'"params": {"max_new_tokens": 9999}', "`maxNewTokens` must be at most 8192"),
        (GenerateRequest, GENERATE % b'"params": {"top_p": 0}', "`topP` must be greater than 0.0"),
        (GenerateRequest, GENERATE % b'"params": {"stop": ["a", ""]}', "item 2 of `stop` must not be empty"),
        (
            GenerateRequest,
            GENERATE % b'"params": {"stop": ["a","b","c","d","e","f","g","h","i"]}',
            "`stop` must have at most 8 items",
        ),
        (GenerateRequest, GENERATE % b'"params": {"seed": "x"}', "`seed` must be a whole number, not a string"),
        (
            GenerateRequest,
            GENERATE % b'"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": 5}]',
            "`content` of item 2 of `messages` must be a string, not a whole number",
        ),
        (GenerateRequest, GENERATE % b'"adapter": "../etc"', "`adapter` is not valid: use letters, digits, '.'"),
        (GenerateRequest, GENERATE % b'"colour": "red"', "`colour` is not something this request takes"),
        (FineTuneSpec, FINE_TUNE % b'"dataset": ""', "`datasetName` must not be empty"),
        (FineTuneSpec, FINE_TUNE % b'"learning_rate": -1', "`learningRate` must be greater than 0.0"),
        (FineTuneSpec, FINE_TUNE % b'"num_epochs": "two"', "`numEpochs` must be a number, not a string"),
        (FineTuneSpec, b'{"job_id": "j1"}', "`adapterName` is required"),
        (GetJob, b'{"job_id": "\\u2026"}', "`jobId` is not valid: use letters, digits, '_' and '-', 1 to 64"),
        (RegisterAdapter, b'{"meta": {"name": "a"}}', "is required in `meta`"),
    ],
)
def test_validation_errors_name_the_argument(kind: type[object], body: bytes, words: str) -> None:
    message = refusal(body, kind)
    assert message.startswith("invalid request: ")  # the service's own words, for NATS callers
    worded = for_graphql(message)
    assert words in worded
    assert "$." not in worded and "Expected `" not in worded


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


@pytest.mark.parametrize(
    ("message", "worded"),
    [
        ("no job with id 'x'; `svc.training.jobs` lists them", "no job with id 'x'; `fineTuneJobs` lists them"),
        ("no adapter named 'x'; `svc.adapters.list` lists them", "no adapter named 'x'; `adapters` lists them"),
        # not a validation error, no wire name: as it was
        ("the prompt is empty", "the prompt is empty"),
        ("start one with `python -m services.inference`", "start one with `python -m services.inference`"),
        ("invalid request: something msgspec never said", "invalid request: something msgspec never said"),
    ],
)
def test_other_messages(message: str, worded: str) -> None:
    assert for_graphql(message) == worded
