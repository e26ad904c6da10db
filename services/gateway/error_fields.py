"""Service errors in each API's own names, read from the error's `field`, never from its text.

A service that refuses a request sets `ErrorMessage.field` to the wire path of what it refuses
(`params.max_new_tokens`, `messages[1].content`, `dataset`) and says in `message` what is wrong with it
(see `messages.errors`). Here that path becomes the GraphQL argument (`maxNewTokens`, for `errorField`
and `extensions.argument`) or OpenAI's `param` (`max_tokens`), and the message a sentence that names it:
"`maxNewTokens` must be at least 1", "item 2 of `stop` must not be empty".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from graphql import (
    ArgumentNode,
    DocumentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)
from strawberry.utils.str_converters import to_camel_case

from messages import ErrorCode, SwitchboardError

_SEGMENT = re.compile(r"(?P<name>[A-Za-z_]\w*)|\[(?P<index>\d+)\]")
# wire containers the caller never names: GraphQL and OpenAI take the generation settings flat
_UNNAMED = frozenset({"params", "meta"})
# wire fields whose GraphQL argument is not their camelCase
_GRAPHQL_ARGUMENT = {"dataset": "datasetName", "name": "adapterName", "adapter_name": "adapterName"}
# wire fields -> OpenAI request fields (those not listed keep their wire name: prompt, messages, stop, ...)
_OPENAI_PARAM = {"max_new_tokens": "max_tokens", "adapter": "model"}
# a function's wire fields, which OpenAI nests under `function`: `tools[0].parameters` -> `tools[0].function.parameters`
_FUNCTION_FIELDS = frozenset({"name", "description", "parameters", "strict"})
# a past call's wire fields, which OpenAI nests under `function` too: `tool_calls[0].arguments`
_CALL_FIELDS = frozenset({"name", "arguments"})
# a constraint's wire fields -> the GraphQL argument that sets it (`constraint` alone: the one the request used)
_GRAPHQL_CONSTRAINT = {"pattern": "regex", "choices": "choice"}
# the GraphQL field that lists what a NOT_FOUND error's field names
_LISTED_BY = {"job_id": "fineTuneJobs", "name": "adapters", "adapter": "adapters", "adapter_name": "adapters"}


def graphql_argument(field: str | None, constraint: str = "jsonSchema") -> str | None:
    """The GraphQL argument that sets wire field `field`: `params.learning_rate` -> `learningRate`,
    `tools[1].name` -> `tools`, `constraint.pattern` -> `regex`, and `constraint` -> `constraint`, the argument
    the request's structured output came from (`jsonSchema`, `regex` or `choice`)."""
    names = _names(field)
    if names and names[0][0] == "constraint":
        return _GRAPHQL_CONSTRAINT.get(names[1][0], constraint) if len(names) > 1 else constraint
    return _graphql_name(names[0][0]) if names else None


def graphql_message(exc: SwitchboardError, constraint: str = "jsonSchema") -> str:
    """`exc` as a GraphQL caller reads it: the field named as their argument (`constraint` as
    `graphql_argument` says), and for a NOT_FOUND the query that lists what exists."""
    if exc.field is None:
        return exc.message
    if _named_whole(exc.field, ("constraint", "tool_choice")):
        subject = f"`{graphql_argument(exc.field, constraint)}`"
    else:
        subject = _subject(exc.field, _graphql_name, to_camel_case)
    text = f"{subject} {exc.message}"
    listed_by = _LISTED_BY.get(exc.field) if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.ADAPTER_MISSING) else None
    return f"{text}; `{listed_by}` lists them" if listed_by else text


def openai_param(field: str | None, constraint: str = "response_format") -> str | None:
    """OpenAI's `param` for wire field `field`: `params.max_new_tokens` -> `max_tokens`, `constraint` ->
    `constraint`, the request field the structured output came from (`response_format`, `guided_regex`,
    ...), and the paths into a list as OpenAI nests them: `tools[0].parameters` -> `tools[0].function.parameters`,
    `messages[1].tool_calls[0].arguments` -> `messages[1].tool_calls[0].function.arguments`, `messages[2].content`
    as it is."""
    names = _names(field)
    if not names:
        return None
    (name, index), *inner = names
    if name == "constraint":
        return constraint
    if name == "tools" and index is not None:
        if inner and inner[0][0] in _FUNCTION_FIELDS:
            return f"tools[{index}].function.{inner[0][0]}"
        return f"tools[{index}]"
    if name == "messages" and index is not None:
        return _path(names)
    return _openai_name(name)


def openai_message(exc: SwitchboardError, constraint: str = "response_format") -> str:
    """`exc` as an OpenAI client reads it: "`max_tokens` must be at least 1", "`messages[2].content` must not
    be empty" (`constraint` as `openai_param` says)."""
    if exc.field is None:
        return exc.message
    if _named_whole(exc.field, ("constraint", "tools", "tool_choice", "messages")):
        return f"`{openai_param(exc.field, constraint)}` {exc.message}"
    return f"{_subject(exc.field, _openai_name, str)} {exc.message}"


def _named_whole(field: str, outer: tuple[str, ...]) -> bool:
    """Whether `field` (under one of the wire fields `outer`) is named by the path the API spells
    (`tools[0].function.parameters`, `response_format`, `toolChoice`) rather than item by item."""
    names = _names(field)
    return bool(names) and names[0][0] in outer


def _names(field: str | None) -> list[tuple[str, int | None]]:
    """`params.stop[1]` -> [("stop", 1)]: the names a caller set, each with the list index after it."""
    names: list[tuple[str, int | None]] = []
    for segment in _SEGMENT.finditer(field or ""):
        if segment["name"]:
            if not (segment["name"] in _UNNAMED and not names):
                names.append((segment["name"], None))
        elif names:
            names[-1] = (names[-1][0], int(segment["index"]))
    return names


def _path(names: list[tuple[str, int | None]]) -> str:
    """`names` as OpenAI's path into its body: `messages[1].tool_calls[0].function.arguments` (a call's `name`
    and `arguments` are under its `function` there, not on the wire)."""
    parts: list[str] = []
    for i, (name, index) in enumerate(names):
        if name in _CALL_FIELDS and i > 0 and names[i - 1][0] == "tool_calls":
            parts.append("function")
        parts.append(name if index is None else f"{name}[{index}]")
    return ".".join(parts)


def _graphql_name(name: str) -> str:
    return _GRAPHQL_ARGUMENT.get(name) or to_camel_case(name)


def _openai_name(name: str) -> str:
    return _OPENAI_PARAM.get(name, name)


def _subject(field: str, rename: Callable[[str], str], rename_inner: Callable[[str], str]) -> str:
    """`messages[1].content` -> "`content` of item 2 of `messages`"; `params.stop[0]` -> "item 1 of `stop`";
    `messages[1].tool_calls[0].arguments` -> "`arguments` of item 1 of `toolCalls` of item 2 of `messages`".
    `rename` names an argument (the first name), `rename_inner` a field inside one (`tools[1].name` is a
    tool's `name`, not the argument `adapterName`)."""
    names = _names(field)
    if not names:
        return "the request"
    named = [(rename(name) if i == 0 else rename_inner(name), index) for i, (name, index) in enumerate(names)]
    (name, index), *outer = reversed(named)
    text = f"item {index + 1} of `{name}`" if index is not None else f"`{name}`"
    return "".join([text, *(f" of item {i + 1} of `{n}`" for n, i in outer if i is not None)])


def graphql_argument_at(document: DocumentNode | None, nodes: Sequence[Node] | None) -> str | None:
    """The argument a GraphQL-rejected value belongs to, found in the document's syntax tree (not the text):
    `maxNewTokens` for `maxNewTokens: "x"`, for an enum inside `messages: [{role: WIZARD}]` `messages`, and
    for a variable `$n` whose value cannot be coerced the argument `$n` is passed to."""
    if document is None or not nodes:
        return None
    target = nodes[0]
    if isinstance(target, ArgumentNode):
        return target.name.value
    variable = target.variable.name.value if isinstance(target, VariableDefinitionNode) else None
    finder = _ArgumentFinder(target, variable)
    visit(document, finder)
    return finder.found


class _ArgumentFinder(Visitor):
    def __init__(self, target: Node, variable: str | None) -> None:
        super().__init__()
        self.target = target
        self.variable = variable
        self.found: str | None = None

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        if self.found is None and _within(node.value, self.target, self.variable):
            self.found = node.name.value


def _within(value: ValueNode, target: Node, variable: str | None) -> bool:
    if value is target or (variable is not None and isinstance(value, VariableNode) and value.name.value == variable):
        return True
    if isinstance(value, ListValueNode):
        return any(_within(item, target, variable) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_within(field.value, target, variable) for field in value.fields)
    return False
