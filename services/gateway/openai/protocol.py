"""OpenAI request bodies (`/v1/chat/completions`, `/v1/completions`) read and checked, as Switchboard's terms.

Every field is either used, or refused with a 400 that names it (`functions`, a penalty, ...), never silently
ignored; a field that asks for nothing (a penalty of 0, `echo: false`) is accepted. Generation settings are
checked one by one against `messages.GenerationParams`' own limits, so the error names the parameter as the
caller wrote it. Switchboard's defaults apply where the caller gives none (greedy decoding, 256 new tokens),
not OpenAI's.

Structured output, from whichever one of these the caller gives (`_constraint`): `response_format`
(`json_object`: any JSON object; `json_schema`: its `schema`; `text`: none), vLLM's `structured_outputs`
(`json`, `regex` or `choice`) or its older `guided_json` / `guided_regex` / `guided_choice`. Tools
(`_tools`): OpenAI's `tools` of type `function`, `tool_choice`, `parallel_tool_calls`; the conversation's
assistant turns may carry `tool_calls`, and `tool` turns answer them by `tool_call_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import msgspec

from messages import ChatMessage, GenerationParams
from messages.inference import (
    MAX_PROMPT_CHARS,
    ChoiceConstraint,
    Constraint,
    FunctionTool,
    JsonConstraint,
    RegexConstraint,
    ToolCall,
    ToolChoice,
)

# what a field's value must be for the request to ask nothing of it (then it is accepted)
_HARMLESS: dict[str, tuple[object, ...]] = {
    "top_logprobs": (0, None),  # /v1/completions: `logprobs` says how many
    "presence_penalty": (0, 0.0, None),
    "frequency_penalty": (0, 0.0, None),
    "echo": (False, None),
    "suffix": (None, ""),
    "best_of": (1, None),
    "store": (False, None),
    "metadata": (None,),
}
_GENERATION = ("max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed", "n", "logprobs")
# where a request may ask for structured output: OpenAI's field, vLLM's, and vLLM's older ones
_CONSTRAINED = ("response_format", "structured_outputs", "guided_json", "guided_regex", "guided_choice")
_COMMON = frozenset({"model", "stream", "stream_options", "user", "web_search", *_GENERATION, *_CONSTRAINED})
CHAT_FIELDS = _COMMON | {"messages", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls"}
COMPLETION_FIELDS = _COMMON | {"prompt"}
MAX_COMPLETION_LOGPROBS = 5  # /v1/completions' `logprobs`, as OpenAI's legacy API allows
Role = Literal["system", "user", "assistant", "tool"]
_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
}
_MESSAGE_FIELDS: dict[Role, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "name", "tool_calls", "refusal"}),
    "tool": frozenset({"role", "content", "name", "tool_call_id"}),
}


class OpenAIRequestError(Exception):
    """A request refused before it reaches a worker: HTTP 400 with OpenAI's error shape."""

    def __init__(self, message: str, param: str | None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


@dataclass(frozen=True)
class OpenAIRequest:
    """A checked request: the model name, the turns (or a prompt), the generation settings, the options,
    and what the answer must be (a constraint) or may do (call tools)."""

    model: str
    params: GenerationParams
    messages: list[ChatMessage] | None
    prompt: str | None
    stream: bool
    include_usage: bool
    web_search: bool
    constraint: Constraint | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool = True


def read_chat(body: object) -> OpenAIRequest:
    """A `/v1/chat/completions` body. Raises OpenAIRequestError."""
    fields = _object(body, CHAT_FIELDS)
    messages = fields.get("messages")
    if not isinstance(messages, list) or not messages:
        raise OpenAIRequestError("`messages` must be a non-empty list of {role, content}", "messages")
    asked = _request(fields, messages=[_message(m, i) for i, m in enumerate(messages)], prompt=None, chat=True)
    tools = _tools(fields.get("tools"))
    choice = _tool_choice(fields.get("tool_choice")) if tools else None
    parallel = fields.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        raise OpenAIRequestError("`parallel_tool_calls` must be true or false", "parallel_tool_calls")
    return replace(asked, tools=tools, tool_choice=choice, parallel_tool_calls=parallel)


def read_completion(body: object) -> OpenAIRequest:
    """A `/v1/completions` body (the prompt is answered as one user turn). Raises OpenAIRequestError."""
    fields = _object(body, COMPLETION_FIELDS)
    prompt = fields.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str) or not prompt.strip():
        raise OpenAIRequestError("`prompt` must be one non-empty string (one prompt per request)", "prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise OpenAIRequestError(f"`prompt` is over {MAX_PROMPT_CHARS} characters", "prompt")
    return _request(fields, messages=None, prompt=prompt, chat=False)


def _json(value: object) -> str:
    """`value` as JSON writes it (`null`, `false`, `""`), the way a client sent or should send it."""
    return msgspec.json.encode(value).decode()


def _object(body: object, allowed: frozenset[str]) -> dict[str, Any]:
    """The body's fields, an explicit `null` read as "not given" (clients send unset fields so: a null
    `max_completion_tokens` must not hide `max_tokens`, a null `tools` asks for nothing)."""
    if not isinstance(body, dict):
        raise OpenAIRequestError("the request body must be a JSON object", None)
    body = {name: value for name, value in body.items() if value is not None}
    for name, value in body.items():
        if name in allowed or value in _HARMLESS.get(name, ()):
            continue
        what = f"`{name}` is not supported by Switchboard"
        if name in _HARMLESS:
            what += f" (only {_json(_HARMLESS[name][0])})"
        raise OpenAIRequestError(what, name, "unsupported_parameter")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise OpenAIRequestError("`model` must name the base model or a saved adapter (GET /v1/models)", "model")
    return body


def _message(raw: object, index: int) -> ChatMessage:
    param = f"messages[{index}]"
    if not isinstance(raw, dict):
        raise OpenAIRequestError(f"`{param}` must be an object with `role` and `content`", param)
    raw = {name: value for name, value in raw.items() if value is not None}  # a null is "not given"
    role = _ROLES.get(str(raw.get("role")))
    if role is None:
        raise OpenAIRequestError(f"`{param}.role` must be one of {', '.join(_ROLES)}", f"{param}.role")
    unknown = set(raw) - _MESSAGE_FIELDS[role]
    if unknown:
        name = sorted(unknown)[0]
        raise OpenAIRequestError(f"`{param}.{name}` is not supported by Switchboard", f"{param}.{name}")
    calls = _calls(raw["tool_calls"], param) if "tool_calls" in raw else None
    content = _content(raw.get("content", "" if calls or role == "tool" else None), param)
    if not content.strip() and not calls and role != "tool":  # a tool may answer with nothing
        raise OpenAIRequestError(f"`{param}.content` is empty", f"{param}.content")
    call_id = raw.get("tool_call_id")
    if role == "tool" and (not isinstance(call_id, str) or not 1 <= len(call_id) <= 64):
        raise OpenAIRequestError(
            f"`{param}.tool_call_id` must name the call this answers (1 to 64 characters)", f"{param}.tool_call_id"
        )
    return ChatMessage(role=role, content=content, tool_calls=calls or None, tool_call_id=call_id)


def _content(content: object, param: str) -> str:
    """A message's content: a string, or text parts joined."""
    if isinstance(content, list):  # content parts: text only
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise OpenAIRequestError(f"`{param}.content` may hold text parts only", f"{param}.content")
            parts.append(part["text"])
        content = "".join(parts)
    if not isinstance(content, str):
        raise OpenAIRequestError(f"`{param}.content` must be a string", f"{param}.content")
    if len(content) > MAX_PROMPT_CHARS:
        raise OpenAIRequestError(f"`{param}.content` is over {MAX_PROMPT_CHARS} characters", f"{param}.content")
    return content


def _calls(raw: object, param: str) -> list[ToolCall]:
    """An assistant turn's `tool_calls`: `[{id, type: "function", function: {name, arguments}}]`."""
    if not isinstance(raw, list):
        raise OpenAIRequestError(f"`{param}.tool_calls` must be a list", f"{param}.tool_calls")
    calls = []
    for i, call in enumerate(raw):
        where = f"{param}.tool_calls[{i}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call, dict) or call.get("type", "function") != "function" or not isinstance(function, dict):
            raise OpenAIRequestError(f"`{where}` must be {{id, type: function, function: {{name, arguments}}}}", where)
        try:
            calls.append(
                msgspec.convert(
                    {"id": call.get("id"), "name": function.get("name"), "arguments": function.get("arguments")},
                    ToolCall,
                )
            )
        except msgspec.ValidationError as exc:
            raise OpenAIRequestError(f"`{where}`: {_detail(exc)}", where) from exc
    return calls


def _detail(exc: msgspec.ValidationError) -> str:
    """msgspec's complaint without its path, starting lowercase: "expected `str`, got `int`"."""
    detail = str(exc).split(" - at ")[0]
    return detail[0].lower() + detail[1:]


def _tools(raw: object) -> list[FunctionTool] | None:
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
            raise OpenAIRequestError(f"`{param}`: {_detail(exc)}", param) from exc
    return tools or None


def _tool_choice(raw: object) -> ToolChoice | None:
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


def _constraint(fields: dict[str, Any]) -> Constraint | None:
    """The structured output asked for, from the one field that asks (`_CONSTRAINED`). Raises
    OpenAIRequestError naming the field."""
    given = [name for name in _CONSTRAINED if name in fields and fields[name] != {"type": "text"}]
    if len(given) > 1:
        raise OpenAIRequestError(f"give one of `{given[0]}` and `{given[1]}`", given[1])
    if not given:
        return None
    name, value = given[0], fields[given[0]]
    if name == "response_format":
        return _response_format(value)
    if name == "structured_outputs":
        kinds = [kind for kind in ("json", "regex", "choice") if isinstance(value, dict) and kind in value]
        if not isinstance(value, dict) or len(kinds) != 1 or set(value) - {"json", "regex", "choice"}:
            raise OpenAIRequestError(
                "`structured_outputs` takes one of `json` (a JSON Schema), `regex` or `choice`", name
            )
        name, value = f"guided_{kinds[0]}", value[kinds[0]]
        where = "structured_outputs"
    else:
        where = name
    if name == "guided_json":
        if isinstance(value, str):  # vLLM takes the schema as JSON text too
            try:
                value = msgspec.json.decode(value)
            except msgspec.DecodeError:
                value = None
        if not isinstance(value, dict):
            raise OpenAIRequestError(f"`{where}`: `json` must be a JSON Schema (an object)", where)
        return JsonConstraint(schema=value)
    try:
        if name == "guided_regex":
            return msgspec.convert({"type": "regex", "pattern": value}, RegexConstraint)
        return msgspec.convert({"type": "choice", "choices": value}, ChoiceConstraint)
    except msgspec.ValidationError as exc:
        what = "a non-empty regular expression" if name == "guided_regex" else "a list of 1 to 256 non-empty strings"
        raise OpenAIRequestError(f"`{where}`: must be {what} ({_detail(exc)})", where) from exc


def _response_format(value: object) -> Constraint | None:
    """`response_format`: `{type: text}`, `{type: json_object}`, or `{type: json_schema, json_schema: {name,
    schema, strict, description}}` (the schema held by the grammar engine, `strict` or not)."""
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
    unknown = sorted(set(spec) - {"name", "schema", "strict", "description"})
    if unknown:
        raise OpenAIRequestError(f"`response_format.json_schema.{unknown[0]}` is not supported", "response_format")
    if not isinstance(spec.get("name", ""), str) or not isinstance(spec.get("strict", False), bool):
        raise OpenAIRequestError(
            "`response_format.json_schema`: `name` is a string, `strict` a boolean", "response_format"
        )
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise OpenAIRequestError(
            "`response_format.json_schema.schema` must be a JSON Schema (an object)", "response_format"
        )
    return JsonConstraint(schema=schema or None)


def _request(
    fields: dict[str, Any], messages: list[ChatMessage] | None, prompt: str | None, chat: bool
) -> OpenAIRequest:
    stream = fields.get("stream") or False
    if not isinstance(stream, bool):
        raise OpenAIRequestError("`stream` must be true or false", "stream")
    options = fields.get("stream_options")
    if options is not None and (not stream or not isinstance(options, dict) or set(options) - {"include_usage"}):
        raise OpenAIRequestError("`stream_options` takes {include_usage} and needs `stream: true`", "stream_options")
    web_search = fields.get("web_search") or False
    if not isinstance(web_search, bool):
        raise OpenAIRequestError("`web_search` must be true or false", "web_search")
    return OpenAIRequest(
        model=fields["model"],
        params=_params(fields, chat),
        messages=messages,
        prompt=prompt,
        stream=stream,
        include_usage=bool((options or {}).get("include_usage")),
        web_search=web_search,
        constraint=_constraint(fields),
    )


def _params(fields: dict[str, Any], chat: bool) -> GenerationParams:
    """Each setting checked on its own against GenerationParams' limits, so the error names it. Logprobs:
    chat's `logprobs` (true/false) and `top_logprobs` (0 to 20, with `logprobs`), or completions' `logprobs`
    (0 to 5: the chosen token's and that many most likely)."""
    tokens = fields.get("max_completion_tokens", fields.get("max_tokens"))
    both = (fields.get("max_tokens"), fields.get("max_completion_tokens"))
    if None not in both and both[0] != both[1]:
        raise OpenAIRequestError("`max_tokens` and `max_completion_tokens` differ: give one", "max_tokens")
    given = {
        ("max_tokens" if "max_completion_tokens" not in fields else "max_completion_tokens", "max_new_tokens"): tokens,
        ("temperature", "temperature"): fields.get("temperature"),
        ("top_p", "top_p"): fields.get("top_p"),
        ("stop", "stop"): [fields["stop"]] if isinstance(fields.get("stop"), str) else fields.get("stop"),
        ("seed", "seed"): fields.get("seed"),
        ("n", "n"): fields.get("n"),
        **_logprobs(fields, chat),
    }
    wire: dict[str, Any] = {}
    for (param, name), value in given.items():
        if value is None:
            continue
        try:
            msgspec.convert({name: value}, GenerationParams)
        except msgspec.ValidationError as exc:
            raise OpenAIRequestError(f"`{param}`: {_detail(exc)}", param) from exc
        wire[name] = value
    return msgspec.convert(wire, GenerationParams)


def _logprobs(fields: dict[str, Any], chat: bool) -> dict[tuple[str, str], object]:
    """The logprob settings asked for, keyed as `_params` checks them."""
    asked, top = fields.get("logprobs"), fields.get("top_logprobs")
    if not chat:  # OpenAI's legacy API: `logprobs` is how many most likely tokens
        if asked is None:
            return {}
        if isinstance(asked, bool) or not isinstance(asked, int) or not 0 <= asked <= MAX_COMPLETION_LOGPROBS:
            raise OpenAIRequestError(f"`logprobs` must be 0 to {MAX_COMPLETION_LOGPROBS}", "logprobs")
        return {("logprobs", "logprobs"): True, ("logprobs", "top_logprobs"): asked}
    if asked is not None and not isinstance(asked, bool):
        raise OpenAIRequestError("`logprobs` must be true or false", "logprobs")
    if top is not None and not asked:
        if top == 0:
            return {}
        raise OpenAIRequestError("`top_logprobs` needs `logprobs: true`", "top_logprobs")
    return {("logprobs", "logprobs"): asked, ("top_logprobs", "top_logprobs"): top}
