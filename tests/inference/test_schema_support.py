"""Schemas the grammar engine would silently half-enforce are refused before they compile: for each refused
case the engine's own matcher is shown to accept an answer the schema forbids (why it is refused; if a later
xgrammar enforces it, this test says so), and schemas it does enforce pass, Pydantic's shapes included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xgrammar as xgr
from transformers import AutoTokenizer

from messages import JsonConstraint
from services.inference.grammar import Grammars
from services.inference.schema_support import UnenforceableSchema, check_enforceable

INT = {"type": "integer"}
OBJ_A = {"type": "object", "properties": {"a": INT}}

# (schema, an answer the schema forbids that xgrammar's grammar accepts, words of the refusal)
HALF_ENFORCED: list[tuple[dict[str, Any], Any, str]] = [
    ({"type": "array", "items": INT, "uniqueItems": True}, [1, 1], "uniqueItems"),
    ({"type": "integer", "not": {"const": 3}}, 3, "`not`"),
    ({**OBJ_A, "if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}}, {"a": 1}, "`if`"),
    ({**OBJ_A, "required": ["a"], "allOf": [{"properties": {"b": INT}}]}, {}, "allOf"),
    ({"type": "string", "enum": [1, 2]}, 1, "enum"),
    ({"type": "string", "const": 5}, 5, "enum"),
    ({**OBJ_A, "required": ["b"]}, {"a": 1}, "requires 'b'"),
    ({"type": "integer", "multipleOf": 3, "minimum": 1}, 4, "multipleOf"),
    ({"type": "number", "multipleOf": 0.5}, 0.3, "multipleOf"),
    ({"type": "string", "pattern": "^a+$", "minLength": 3}, "a", "pattern"),
    ({"oneOf": [INT, {"type": "number"}]}, 1, "oneOf"),
    ({"type": "array", "items": INT, "contains": {"const": 1}}, [2], "contains"),
    ({**OBJ_A, "properties": {"a": INT, "b": INT}, "dependentRequired": {"a": ["b"]}}, {"a": 1}, "dependentRequired"),
    ({"$defs": {"X": INT}, "$ref": "#/$defs/X", "minimum": 5}, 3, "beside"),
    ({"type": "string", "format": "date", "minLength": 20}, "1000-10-10", "format"),
]
# schemas no value satisfies, where the engine's grammar accepts broken JSON: (schema, the text it accepts)
EMPTY: list[tuple[dict[str, Any], str, str]] = [
    ({"type": "object", "properties": {"a": {"anyOf": []}}, "required": ["a"]}, '{"a": }', "empty list"),
    ({"anyOf": []}, "", "empty list"),
]

ENFORCED: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 20}, "tags": {"type": "array", "items": INT}},
        "required": ["name"],
    },
    {"type": "integer", "multipleOf": 3},
    {"type": "string", "enum": ["a", "b"]},
    {"oneOf": [INT, {"type": "string"}]},
    # Pydantic v2: a nested model by reference, and an optional field
    {
        "$defs": {"City": {"properties": {"name": {"title": "Name", "type": "string"}}, "required": ["name"]}},
        "properties": {
            "city": {"$ref": "#/$defs/City", "description": "where"},
            "zip": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "required": ["city"],
        "title": "Address",
        "type": "object",
    },
    {"allOf": [{"$ref": "#/$defs/X"}], "description": "old Pydantic", "$defs": {"X": OBJ_A}},
]


@pytest.fixture(scope="module")
def grammars(bundled_model: Path) -> Grammars:
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model))
    return Grammars(tokenizer, 49152, {int(tokenizer.eos_token_id)})


@pytest.mark.parametrize(("schema", "forbidden", "words"), HALF_ENFORCED)
def test_what_the_engine_would_drop_is_refused(
    grammars: Grammars, schema: dict[str, Any], forbidden: Any, words: str
) -> None:
    assert not jsonschema.Draft202012Validator(schema).is_valid(forbidden)
    matcher = xgr.GrammarMatcher(grammars.compile(JsonConstraint(schema)).grammar)
    assert matcher.accept_string(json.dumps(forbidden)) and matcher.is_completed(), "the engine enforces it now"
    with pytest.raises(UnenforceableSchema, match=words):
        check_enforceable(schema, 32)


@pytest.mark.parametrize(("schema", "broken", "words"), EMPTY)
def test_what_nothing_satisfies_is_refused(grammars: Grammars, schema: dict[str, Any], broken: str, words: str) -> None:
    matcher = xgr.GrammarMatcher(grammars.compile(JsonConstraint(schema)).grammar)
    assert matcher.accept_string(broken) if broken else True
    assert matcher.is_completed() or matcher.is_terminated(), "the engine refuses it now"
    with pytest.raises(UnenforceableSchema, match=words):
        check_enforceable(schema, 32)
    for empty in ({"enum": []}, {"oneOf": []}, {"allOf": []}, {"type": []}):
        with pytest.raises(UnenforceableSchema, match="empty list"):
            check_enforceable(empty, 32)
    with pytest.raises(UnenforceableSchema, match="defines as false"):
        check_enforceable({"properties": {"a": False}, "required": ["a"]}, 32)


@pytest.mark.parametrize("schema", ENFORCED)
def test_what_the_engine_enforces_passes(schema: dict[str, Any]) -> None:
    check_enforceable(schema, 32)


def test_an_enum_value_its_format_forbids_is_refused() -> None:
    with pytest.raises(UnenforceableSchema, match="hello"):
        check_enforceable({"type": "string", "format": "ipv4", "enum": ["hello"]}, 32)
    check_enforceable({"type": "string", "format": "ipv4", "enum": ["10.0.0.1"]}, 32)


def test_the_refusal_names_where() -> None:
    schema = {"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": True}}}
    with pytest.raises(UnenforceableSchema) as refused:
        check_enforceable(schema, 32)
    assert refused.value.pointer == "#/properties/tags"


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = INT
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


def test_nesting_is_bounded_even_where_only_depth_is_checked() -> None:
    check_enforceable(nested(32), 32)
    for only_depth in (False, True):
        with pytest.raises(UnenforceableSchema, match="INFERENCE_MAX_SCHEMA_DEPTH"):
            check_enforceable(nested(33), 32, only_depth=only_depth)
    check_enforceable({"type": "array", "uniqueItems": True}, 32, only_depth=True)
