"""What one generation may ask for at this gateway: settings below the wire contract's own limits, each refusal
a BAD_REQUEST naming the wire field (each API names it its own way, `error_fields.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from messages import ErrorCode, GenerateRequest, SwitchboardError, encode
from messages.inference import MAX_CHOICES, MAX_TOOLS, JsonConstraint

MAX_SCHEMA_CHARS = 32_768  # a JSON Schema (response format or tool parameters) as JSON text, by default


@dataclass(frozen=True)
class Limits:
    """What one generation may ask for at this gateway (settings; the wire contract's limits are the ceiling):
    `max_choices` for `n`, `max_tools` functions, `max_schema_chars` of each JSON Schema as JSON text."""

    max_choices: int = MAX_CHOICES
    max_tools: int = MAX_TOOLS
    max_schema_chars: int = MAX_SCHEMA_CHARS

    def check(self, request: GenerateRequest) -> None:
        """Raises SwitchboardError (BAD_REQUEST, with the wire field) for what is over a limit, a `tool_choice`
        that names no offered function or asks for a call with no functions offered (`tool_choice`), or a
        constraint beside a forced or strict tool call (`constraint`). The last two are the worker's rules too
        (`services.inference.tools.admission`), checked here first so that each API words them in its names."""
        if request.params.n > self.max_choices:
            raise _bad(f"must be at most {self.max_choices} (GATEWAY_MAX_CHOICES)", "params.n")
        tools = request.tools or []
        if len(tools) > self.max_tools:
            raise _bad(f"may list at most {self.max_tools} functions (GATEWAY_MAX_TOOLS)", "tools")
        if isinstance(request.constraint, JsonConstraint) and request.constraint.schema is not None:
            self._check_schema(request.constraint.schema, "constraint")
        names: set[str] = set()
        for i, tool in enumerate(tools):
            if tool.name in names:
                raise _bad(f"names `{tool.name}` a second time", f"tools[{i}].name")
            names.add(tool.name)
            if tool.parameters is not None:
                if tool.parameters.get("type", "object") != "object":
                    raise _bad("must be the JSON Schema of an object (`type` `object`)", f"tools[{i}].parameters")
                self._check_schema(tool.parameters, f"tools[{i}].parameters")
        choice = request.tool_choice
        forced = choice is not None and choice.mode in ("required", "function")
        if forced and not tools:
            raise _bad("asks for a function call, but the request offers no `tools`", "tool_choice")
        if choice is not None and choice.mode == "function" and choice.name not in names:
            raise _bad(f"names `{choice.name}`, which is not one of `tools`", "tool_choice")
        strict = (choice is None or choice.mode == "auto") and any(tool.strict for tool in tools)
        if request.constraint is not None and (forced or strict):
            raise _bad(
                "cannot be combined with a forced tool call (a tool choice of `required` or of a function, or a "
                "`strict` tool): an answer is held to one grammar",
                "constraint",
            )

    def _check_schema(self, schema: dict[str, object], wire_field: str) -> None:
        size = len(encode(schema))
        if size > self.max_schema_chars:
            raise _bad(
                f"is {size:,} characters of JSON, over {self.max_schema_chars:,} (GATEWAY_MAX_SCHEMA_CHARS)", wire_field
            )


def _bad(message: str, wire_field: str) -> SwitchboardError:
    return SwitchboardError(ErrorCode.BAD_REQUEST, message, wire_field)
