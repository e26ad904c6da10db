"""Structured output asked of `/v1`, read as a `Constraint`: OpenAI's `response_format` (`json_object`: any
JSON object; `json_schema`: its `schema`; `text`: none), vLLM's `structured_outputs` (`json`, `regex` or
`choice`) or its older `guided_json` / `guided_regex` / `guided_choice`. One of them per request; each
refusal names its `param`, and so does the worker's refusal of the constraint (`OpenAIRequest.constraint_param`)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from messages.inference import ChoiceConstraint, Constraint, JsonConstraint, RegexConstraint

from .request_error import OpenAIRequestError, detail

# where a request may ask for structured output: OpenAI's field, vLLM's, and vLLM's older ones
CONSTRAINED = ("response_format", "structured_outputs", "guided_json", "guided_regex", "guided_choice")
SCHEMA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # `response_format.json_schema.name`, as OpenAI allows it


def constraint(fields: dict[str, Any]) -> tuple[Constraint | None, str]:
    """The structured output asked for, from the one field that asks (`CONSTRAINED`), and the `param` that
    names it: `response_format`, `structured_outputs.regex` (`.json`, `.choice`), `guided_regex`, ...;
    `response_format` when none asks. Raises OpenAIRequestError naming the field."""
    given = [name for name in CONSTRAINED if name in fields and fields[name] != {"type": "text"}]
    if len(given) > 1:
        raise OpenAIRequestError(f"give one of `{given[0]}` and `{given[1]}`", given[1])
    if not given:
        return None, "response_format"
    name, value = given[0], fields[given[0]]
    if name == "response_format":
        return response_format(value), name
    where = name
    if name == "structured_outputs":
        kinds = [kind for kind in ("json", "regex", "choice") if isinstance(value, dict) and kind in value]
        if not isinstance(value, dict) or len(kinds) != 1 or set(value) - {"json", "regex", "choice"}:
            raise OpenAIRequestError(
                "`structured_outputs` takes one of `json` (a JSON Schema), `regex` or `choice`", name
            )
        name, value = f"guided_{kinds[0]}", value[kinds[0]]
        where = f"structured_outputs.{kinds[0]}"
    return _guided(name, value, where), where


def _guided(name: str, value: object, where: str) -> Constraint:
    """vLLM's `guided_json`, `guided_regex` or `guided_choice` (also as `structured_outputs`' `json`, `regex`,
    `choice`), `where` the param that gave it."""
    if name == "guided_json":
        if isinstance(value, str):  # vLLM takes the schema as JSON text too
            try:
                value = msgspec.json.decode(value)
            except msgspec.DecodeError:
                value = None
        if not isinstance(value, dict):
            raise OpenAIRequestError(f"`{where}` must be a JSON Schema (an object, or one as JSON text)", where)
        return JsonConstraint(schema=value)
    try:
        if name == "guided_regex":
            return msgspec.convert({"type": "regex", "pattern": value}, RegexConstraint)
        return msgspec.convert({"type": "choice", "choices": value}, ChoiceConstraint)
    except msgspec.ValidationError as exc:
        what = "a non-empty regular expression" if name == "guided_regex" else "a list of 1 to 256 non-empty strings"
        raise OpenAIRequestError(f"`{where}` must be {what} ({detail(exc)})", where) from exc


def response_format(value: object) -> Constraint | None:
    """`response_format`: `{type: text}`, `{type: json_object}`, or `{type: json_schema, json_schema: {name,
    schema, strict, description}}` (the schema held by the grammar engine, `strict` or not; `name` required, as
    OpenAI requires it). Each refusal names its param (`response_format.json_schema.name`)."""
    given: dict[str, Any] = value if isinstance(value, dict) else {}
    kind = given.get("type")
    if kind == "text" and set(given) == {"type"}:
        return None
    if kind == "json_object" and set(given) == {"type"}:
        return JsonConstraint()
    spec = given.get("json_schema") if kind == "json_schema" else None
    if not isinstance(spec, dict) or set(given) - {"type", "json_schema"}:
        raise OpenAIRequestError(
            '`response_format` must be {"type": "text"}, {"type": "json_object"} or '
            '{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}',
            "response_format",
        )
    spec = {name: v for name, v in spec.items() if v is not None}
    where = "response_format.json_schema"
    unknown = sorted(set(spec) - {"name", "schema", "strict", "description"})
    if unknown:
        raise OpenAIRequestError(f"`{where}.{unknown[0]}` is not supported", f"{where}.{unknown[0]}")
    name = spec.get("name")
    if not isinstance(name, str) or not SCHEMA_NAME.fullmatch(name):
        what = "is required" if name is None else "must be"
        raise OpenAIRequestError(
            f"`{where}.name` {what} 1 to 64 letters, digits, underscores and dashes", f"{where}.name"
        )
    if not isinstance(spec.get("strict", False), bool):
        raise OpenAIRequestError(f"`{where}.strict` must be true or false", f"{where}.strict")
    if not isinstance(spec.get("description", ""), str):
        raise OpenAIRequestError(f"`{where}.description` must be a string", f"{where}.description")
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise OpenAIRequestError(f"`{where}.schema` must be a JSON Schema (an object)", f"{where}.schema")
    return JsonConstraint(schema=schema or None)
