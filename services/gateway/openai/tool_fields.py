"""OpenAI's tool fields read as Switchboard's: `tools` (functions only), `tool_choice`, and an assistant turn's
`tool_calls`. Each refusal names its `param`."""

from __future__ import annotations

import msgspec

from messages.inference import FunctionTool, ToolCall, ToolChoice

from .request_error import OpenAIRequestError, detail

# a past call's wire fields: where OpenAI has them in a call (`name` and `arguments` under `function`), their types
_CALL_PATHS = {"id": "id", "name": "function.name", "arguments": "function.arguments"}
_CALL_TYPES = {field.name: field.type for field in msgspec.structs.fields(ToolCall)}


def tool_calls(raw: object, param: str) -> list[ToolCall]:
    """An assistant turn's `tool_calls`: `[{id, type: "function", function: {name, arguments}}]`. A refusal of
    one of a call's fields names its path (`messages[1].tool_calls[0].function.arguments`)."""
    if not isinstance(raw, list):
        raise OpenAIRequestError(f"`{param}.tool_calls` must be a list", f"{param}.tool_calls")
    calls = []
    for i, call in enumerate(raw):
        where = f"{param}.tool_calls[{i}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call, dict) or call.get("type", "function") != "function" or not isinstance(function, dict):
            raise OpenAIRequestError(f"`{where}` must be {{id, type: function, function: {{name, arguments}}}}", where)
        given = {"id": call.get("id"), "name": function.get("name"), "arguments": function.get("arguments")}
        for name, value in given.items():
            field = f"{where}.{_CALL_PATHS[name]}"
            if value is None:
                raise OpenAIRequestError(f"`{field}` is required", field)
            try:
                msgspec.convert(value, _CALL_TYPES[name])
            except msgspec.ValidationError as exc:
                raise OpenAIRequestError(f"`{field}`: {detail(exc)}", field) from exc
        calls.append(msgspec.convert(given, ToolCall))
    return calls


def tools(raw: object) -> list[FunctionTool] | None:
    """`tools`: `[{type: "function", function: {name, description, parameters, strict}}]`; [] is none."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise OpenAIRequestError("`tools` must be a list of {type: function, function: {...}}", "tools")
    tools = []
    for i, tool in enumerate(raw):
        where = f"tools[{i}]"
        if not isinstance(tool, dict) or tool.get("type") != "function" or set(tool) - {"type", "function"}:
            raise OpenAIRequestError(f"`{where}` must be {{type: function, function: {{...}}}} (functions only)", where)
        function = tool.get("function")
        if not isinstance(function, dict):
            raise OpenAIRequestError(f"`{where}.function` must be an object", f"{where}.function")
        function = {name: value for name, value in function.items() if value is not None}
        for name in sorted(set(function) - {"name", "description", "parameters", "strict"}):
            raise OpenAIRequestError(f"`{where}.function.{name}` is not supported", f"{where}.function.{name}")
        if not isinstance(function.get("parameters", {}), dict):
            raise OpenAIRequestError(
                f"`{where}.function.parameters` must be a JSON Schema object", f"{where}.function.parameters"
            )
        try:
            tools.append(msgspec.convert(function, FunctionTool))
        except msgspec.ValidationError as exc:
            field = str(exc).rsplit("$.", 1)[-1].split("`")[0] if "$." in str(exc) else "name"
            param = f"{where}.function.{field}"
            raise OpenAIRequestError(f"`{param}`: {detail(exc)}", param) from exc
    return tools or None


def tool_choice(raw: object) -> ToolChoice | None:
    """`tool_choice`: "auto", "none", "required", or `{type: "function", function: {name}}`."""
    if raw is None:
        return None
    if raw in ("auto", "none", "required"):
        return ToolChoice(mode=raw)
    function = raw.get("function") if isinstance(raw, dict) and raw.get("type") == "function" else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str):
        raise OpenAIRequestError(
            '`tool_choice` must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}',
            "tool_choice",
        )
    try:
        return msgspec.convert({"mode": "function", "name": name}, ToolChoice)
    except msgspec.ValidationError as exc:
        raise OpenAIRequestError(f"`tool_choice` names no function of `tools`: {name!r}", "tool_choice") from exc
