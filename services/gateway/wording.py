"""Service errors in a GraphQL user's words.

The services answer in NATS terms: msgspec's validation errors ("Expected `int` >= 1 - at
`$.params.max_new_tokens`"), wire field names in snake_case, and subjects. GraphQL callers get the same
facts as a sentence about the argument they set (`maxNewTokens must be at least 1`), and the query that lists
what they asked about instead of the NATS subject.
"""

from __future__ import annotations

import re

from messages import subjects
from messages.fields import PATTERN_RULES

_INVALID = "invalid request: "
_WHERE = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_BOUND = re.compile(r"^Expected `\w+` (?P<op>>=|<=|>|<) (?P<limit>\S+)$")
_LENGTH = re.compile(r"^Expected `(?P<kind>\w+)` of length (?P<op>>=|<=) (?P<limit>\d+)$")
_PATTERN = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$", re.DOTALL)
_TYPE = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")
_SEGMENT = re.compile(r"\.(?P<name>[A-Za-z_]\w*)|\[(?P<index>\d+)\]")
_SNAKE = re.compile(r"`(?P<name>[a-z][a-z0-9]*(?:_[a-z0-9]+)+)`")

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
# wire fields whose GraphQL argument is not just their camelCase
_ARGUMENT_OF_FIELD = {"dataset": "datasetName"}
# NATS subjects named in messages -> the GraphQL field that gives the same answer
_FIELD_OF_SUBJECT = {subjects.TRAINING_JOBS: "fineTuneJobs", subjects.ADAPTERS_LIST: "adapters"}


def for_graphql(message: str) -> str:
    """`message` from a service, reworded for a GraphQL caller (unchanged where nothing applies)."""
    if message.startswith(_INVALID):
        message = _explain(message[len(_INVALID) :])
    for subject, field in _FIELD_OF_SUBJECT.items():
        message = message.replace(f"`{subject}`", f"`{field}`")
    return _SNAKE.sub(lambda m: f"`{_camel(m.group('name'))}`", message)


def argument_of(field: str) -> str:
    """The GraphQL argument that sets wire field `field`: `learning_rate` -> `learningRate`."""
    return _ARGUMENT_OF_FIELD.get(field) or _camel(field)


def field_at(message: str) -> str | None:
    """The top-level wire field a msgspec error is about: `learning_rate` in "... - at `$.learning_rate`"."""
    where = _WHERE.search(message)
    first = _SEGMENT.match(where["path"]) if where else None
    return first["name"] if first else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _explain(error: str) -> str:
    """A msgspec validation error as a sentence about the field it names (snake_case, in backticks)."""
    where = _WHERE.search(error)
    what = error[: where.start()] if where else error
    subject = _subject(where.group("path")) if where else "the request"
    if bound := _BOUND.match(what):
        return f"{subject} must be {_BOUNDS[bound['op']]} {bound['limit']}"
    if length := _LENGTH.match(what):
        unit = "character" if length["kind"] == "str" else "item"
        limit = int(length["limit"])
        if length["op"] == ">=" and limit == 1:
            return f"{subject} must not be empty"
        return f"{subject} must have {_BOUNDS[length['op']]} {limit} {unit}{'' if limit == 1 else 's'}"
    if pattern := _PATTERN.match(what):
        rules = PATTERN_RULES.get(pattern["pattern"].replace("\\\\", "\\"))  # msgspec doubles backslashes
        return f"{subject} is not valid: use {rules}" if rules else f"{subject} is not in the form it must have"
    if kind := _TYPE.match(what):
        return f"{subject} must be {_kind(kind['want'])}, not {_kind(kind['got'])}"
    if missing := _MISSING.match(what):
        return f"`{missing['name']}` is required" + ("" if not where else f" in {subject}")
    if unknown := _UNKNOWN.match(what):
        return f"`{unknown['name']}` is not something this request takes"
    return _INVALID + error


def _kind(name: str) -> str:
    """msgspec's `int | null` -> "a whole number" (null is what leaving an argument out sends)."""
    kinds = [_KINDS.get(k, k) for k in name.split(" | ") if k != "null"] or ["null"]
    return " or ".join(kinds)


def _subject(path: str) -> str:
    """`$.params.stop[0]` -> "item 1 of `stop`"; `$.messages[1].content` -> "`content` of item 2 of `messages`".

    Containers without an index (`params`, `meta`) are the wire's nesting, not something the caller named.
    """
    fields: list[list[str]] = []  # [name, item text or ""]
    for segment in _SEGMENT.finditer(path):
        if segment["name"]:
            fields.append([argument_of(segment["name"]), ""])
        elif fields:
            fields[-1][1] = f"item {int(segment['index']) + 1} of "
    if not fields:
        return "the request"
    (name, item), *outer = reversed(fields)
    text = f"{item}`{name}`"
    container = next((f for f in outer if f[1]), None)
    return f"{text} of {container[1]}`{container[0]}`" if container else text
