"""OpenAI request bodies (`/v1/chat/completions`, `/v1/completions`) read and checked, as Switchboard's terms.

Every field is either used, or refused with a 400 that names it (`functions`, a penalty, ...), never silently
ignored; a field that asks for nothing (a penalty of 0, `echo: false`) is accepted. Generation settings are
checked one by one against `messages.GenerationParams`' own limits, so the error names the parameter as the
caller wrote it. Switchboard's defaults apply where the caller gives none (greedy decoding, 256 new tokens),
not OpenAI's.

Structured output, from whichever one of these the caller gives (`structured_fields.py`): `response_format`
(`json_object`: any JSON object; `json_schema`: its `schema`; `text`: none), vLLM's `structured_outputs`
(`json`, `regex` or `choice`) or its older `guided_json` / `guided_regex` / `guided_choice`. Tools
(`tool_fields.py`): OpenAI's `tools` of type `function`, `tool_choice`, `parallel_tool_calls`; the conversation's
assistant turns may carry `tool_calls`, and `tool` turns answer them by `tool_call_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import msgspec

from messages import ChatMessage, GenerationParams
from messages.inference import (
    MAX_PROMPT_CHARS,
    Constraint,
    FunctionTool,
    ToolChoice,
)

from . import structured_fields, tool_fields
from .request_error import OpenAIRequestError, detail
from .structured_fields import CONSTRAINED

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
_COMMON = frozenset({"model", "stream", "stream_options", "user", "web_search", *_GENERATION, *CONSTRAINED})
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
    constraint_param: str = "response_format"  # the field that asked for `constraint`: names the worker's refusal
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
    tools = tool_fields.tools(fields.get("tools"))
    choice = tool_fields.tool_choice(fields.get("tool_choice"))  # without tools: only auto and none (`Limits`)
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
    calls = tool_fields.tool_calls(raw["tool_calls"], param) if "tool_calls" in raw else None
    if role == "tool" and "content" not in raw:  # OpenAI's rule: a result may be empty, never missing
        raise OpenAIRequestError(
            f"`{param}.content` is required on a `tool` message: a string or text parts", f"{param}.content"
        )
    content = _content(raw.get("content", "" if calls else None), param)
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
        raise OpenAIRequestError(f"`{param}.content` must be a string or a list of text parts", f"{param}.content")
    if len(content) > MAX_PROMPT_CHARS:
        raise OpenAIRequestError(f"`{param}.content` is over {MAX_PROMPT_CHARS} characters", f"{param}.content")
    return content


def _request(
    fields: dict[str, Any], messages: list[ChatMessage] | None, prompt: str | None, chat: bool
) -> OpenAIRequest:
    stream = fields.get("stream") or False
    if not isinstance(stream, bool):
        raise OpenAIRequestError("`stream` must be true or false", "stream")
    options = fields.get("stream_options")
    if options is not None and (not stream or not isinstance(options, dict) or set(options) - {"include_usage"}):
        raise OpenAIRequestError("`stream_options` takes {include_usage} and needs `stream: true`", "stream_options")
    include_usage = (options or {}).get("include_usage")
    if include_usage is not None and not isinstance(include_usage, bool):
        raise OpenAIRequestError("`stream_options.include_usage` must be true or false", "stream_options.include_usage")
    web_search = fields.get("web_search") or False
    if not isinstance(web_search, bool):
        raise OpenAIRequestError("`web_search` must be true or false", "web_search")
    params = _params(fields, chat)
    constraint, constraint_param = structured_fields.constraint(fields)
    return OpenAIRequest(
        model=fields["model"],
        params=params,
        messages=messages,
        prompt=prompt,
        stream=stream,
        include_usage=bool(include_usage),
        web_search=web_search,
        constraint=constraint,
        constraint_param=constraint_param,
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
            raise OpenAIRequestError(f"`{param}`: {detail(exc)}", param) from exc
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
