"""Which functions a request offers the model, and the refusals of tools and `tool_choice` at admission.

Every refusal is `SwitchboardError(BAD_REQUEST, words, field)` with `field` a wire path (`tools[2].parameters`,
`tool_choice`, `constraint`), so each API names its own parameter without reading the words.
"""

from __future__ import annotations

import json
from typing import Literal

import xgrammar

from messages import ErrorCode, FunctionTool, GenerateRequest, SwitchboardError

from ..grammar import engine_words
from ..schema_support import UnenforceableSchema, check_enforceable

ToolMode = Literal["auto", "none", "required", "function"]

# xgrammar's C++ errors start with "[hh:mm:ss] /project/cpp/file.cc:123: "; the rest is the reason


def tool_mode(request: GenerateRequest) -> ToolMode:
    """The request's tool choice: its `tool_choice.mode`, `auto` when it names none (as OpenAI's default with
    tools), and `none` when it offers no tools."""
    if not request.tools:
        return "none"
    return request.tool_choice.mode if request.tool_choice is not None else "auto"


def forces_grammar(request: GenerateRequest) -> bool:
    """Whether the answer is held to a tool-call grammar (`forced.tool_call_grammar` gives it): under
    `tool_choice` `required` or a named function, and under `auto` when a tool is `strict`."""
    mode = tool_mode(request)
    tools = request.tools or []
    return mode in ("required", "function") or (mode == "auto" and any(tool.strict for tool in tools))


def offered_tools(request: GenerateRequest) -> list[FunctionTool]:
    """The functions to show the model, in the request's order: its `tools`, or none when it has none or
    `tool_choice` is `none` (the model is then not told of them at all).

    Raises SwitchboardError BAD_REQUEST (field in wire names) when:
    - two tools share a name (`tools[j].name`);
    - a tool's `parameters` is not an object schema (`tools[i].parameters`: OpenAI's rule, the arguments of a
      call are a JSON object);
    - `tool_choice` is `function` without a `name`, names a function not in `tools`, has a `name` with another
      mode, or is `required` / `function` while `tools` is empty (`tool_choice`);
    - a `constraint` (structured output) comes with a forced call or a `strict` tool (`constraint`): the
      answer is held to one grammar, and both would need their own.
    Whether each `parameters` compiles is `check_tool_schemas` (it needs the grammar compiler).
    """
    tools = request.tools or []
    seen: dict[str, int] = {}
    for index, tool in enumerate(tools):
        if tool.name in seen:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"is {tool.name!r}, the name of tools[{seen[tool.name]}]: function names must be unique",
                f"tools[{index}].name",
            )
        seen[tool.name] = index
        if tool.parameters and tool.parameters.get("type") != "object":  # {}: no arguments, as OpenAI reads it
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                'must be the JSON Schema of an object ({"type": "object", ...}): a call\'s arguments are an object',
                f"tools[{index}].parameters",
            )
    _check_choice(request, seen)
    if request.constraint is not None and forces_grammar(request):
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            "cannot be combined with a forced tool call (`tool_choice` required or a function) or a strict tool: "
            "an answer is held to one grammar",
            "constraint",
        )
    return [] if tool_mode(request) == "none" else list(tools)


def _check_choice(request: GenerateRequest, names: dict[str, int]) -> None:
    choice = request.tool_choice
    if choice is None:
        return
    if choice.mode != "function" and choice.name is not None:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, "takes a `name` only with mode `function`", "tool_choice")
    if choice.mode in ("required", "function") and not names:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST, f"is `{choice.mode}`, but the request offers no `tools`", "tool_choice"
        )
    if choice.mode == "function":
        if choice.name is None:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "has mode `function` but no `name`", "tool_choice")
        if choice.name not in names:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST, f"names the function {choice.name!r}, which is not in `tools`", "tool_choice"
            )


def check_tool_schemas(request: GenerateRequest, compiler: xgrammar.GrammarCompiler, max_depth: int) -> None:
    """Check every tool's `parameters` and compile it as a JSON Schema with `compiler` (whatever `tool_choice`
    is: a schema the grammar engine cannot read is refused, not kept for a later request to trip on). Nesting
    past `max_depth` levels is always refused (compile time grows steeply with it); a keyword the engine
    cannot enforce (`schema_support.check_enforceable`) only when the call is forced (`forces_grammar`): an
    offered tool under `auto` is shown to the model, not enforced. The compiler keeps what it compiled
    (xgrammar's `GrammarCompiler` caches by schema text), so a schema seen before costs a lookup.

    Raises SwitchboardError BAD_REQUEST, field `tools[i].parameters`, with the reason.
    """
    forced = forces_grammar(request)
    for index, tool in enumerate(request.tools or []):
        if not tool.parameters:  # None or {}: no arguments
            continue
        field = f"tools[{index}].parameters"
        try:
            check_enforceable(tool.parameters, max_depth, only_depth=not forced)
        except UnenforceableSchema as exc:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"is a JSON schema that {exc}", field) from exc
        try:
            compiler.compile_json_schema(json.dumps(tool.parameters, sort_keys=True))
        except (RuntimeError, ValueError, TypeError) as exc:
            words = f"is not a JSON Schema the grammar engine can compile: {engine_words(exc)}"
            raise SwitchboardError(ErrorCode.BAD_REQUEST, words, field) from exc
