"""msgspec's validation errors as data: the field a refused request is about, and what is wrong with it.

msgspec raises `ValidationError` with one line of text ("Expected `int` >= 1 - at `$.params.max_new_tokens`")
and no structured path. This is the one place that reads that text, right where a service decodes a
request; what leaves the service is an `ErrorMessage` with `field="params.max_new_tokens"` and
`message="must be at least 1"`, which no caller has to parse. The phrases are msgspec's own (checked
against its real errors in `tests/contract/test_errors_as_data.py`).
"""

from __future__ import annotations

import re

from .fields import PATTERN_RULES

_WHERE = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_BOUND = re.compile(r"^Expected `\w+` (?P<op>>=|<=|>|<) (?P<limit>\S+)$")
_LENGTH = re.compile(r"^Expected `(?P<kind>\w+)` of length (?P<op>>=|<=) (?P<limit>\d+)$")
_PATTERN = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$", re.DOTALL)
_TYPE = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")

_BOUNDS = {">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def explain(error: str) -> tuple[str | None, str]:
    """(field, message) for msgspec validation error text `error`.

    `field` is the wire path without the `$.` (`params.stop[1]`), None for the whole request; `message`
    says what is wrong with the field (without naming it) or, when `field` is None, is a sentence.
    Other phrases are passed on as msgspec wrote them ("is not valid: Number out of range").
    """
    where = _WHERE.search(error)
    what = error[: where.start()] if where else error
    path = where["path"].removeprefix(".") if where else ""
    if missing := _MISSING.match(what):
        return _join(path, missing["name"]), "is required"
    if unknown := _UNKNOWN.match(what):
        return _join(path, unknown["name"]), "is not something this request takes"
    predicate = _predicate(what)
    if predicate is None:
        return (path, f"is not valid: {what}") if path else (None, f"invalid request: {error}")
    if not path:
        return None, f"invalid request: the request {predicate}"
    return path, predicate


def _predicate(what: str) -> str | None:
    if bound := _BOUND.match(what):
        return f"must be {_BOUNDS[bound['op']]} {bound['limit']}"
    if length := _LENGTH.match(what):
        unit = "character" if length["kind"] == "str" else "item"
        limit = int(length["limit"])
        if length["op"] == ">=" and limit == 1:
            return "must not be empty"
        return f"must have {_BOUNDS[length['op']]} {limit} {unit}{'' if limit == 1 else 's'}"
    if pattern := _PATTERN.match(what):
        rules = PATTERN_RULES.get(pattern["pattern"].replace("\\\\", "\\"))  # msgspec doubles backslashes
        return f"is not valid: use {rules}" if rules else "is not in the form it must have"
    if kind := _TYPE.match(what):
        return f"must be {_kind(kind['want'])}, not {_kind(kind['got'])}"
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(name: str) -> str:
    """msgspec's `int | null` -> "a whole number" (null is what leaving an argument out sends)."""
    kinds = [_KINDS.get(k, k) for k in name.split(" | ") if k != "null"] or ["null"]
    return " or ".join(kinds)
