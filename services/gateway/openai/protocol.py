"""OpenAI request bodies (`/v1/chat/completions`, `/v1/completions`) read and checked, as Switchboard's terms.

Every field is either used, or refused with a 400 that names it (`n > 1`, `tools`, `logprobs`, ...), never
silently ignored; a field that asks for nothing (`logprobs: false`, a penalty of 0, `n: 1`) is accepted.
Generation settings are checked one by one against `messages.GenerationParams`' own limits, so the error
names the parameter as the caller wrote it. Switchboard's defaults apply where the caller gives none
(greedy decoding, 256 new tokens), not OpenAI's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from messages import ChatMessage, GenerationParams
from messages.inference import MAX_PROMPT_CHARS

# what a field's value must be for the request to ask nothing of it (then it is accepted)
_HARMLESS: dict[str, tuple[object, ...]] = {
    "n": (1, None),
    "logprobs": (False, None),
    "top_logprobs": (0, None),
    "presence_penalty": (0, 0.0, None),
    "frequency_penalty": (0, 0.0, None),
    "echo": (False, None),
    "suffix": (None, ""),
    "best_of": (1, None),
    "parallel_tool_calls": (None,),
    "store": (False, None),
    "metadata": (None,),
}
_GENERATION = ("max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed")
CHAT_FIELDS = frozenset({"model", "messages", "stream", "stream_options", "user", "web_search", *_GENERATION})
COMPLETION_FIELDS = frozenset({"model", "prompt", "stream", "stream_options", "user", "web_search", *_GENERATION})
Role = Literal["system", "user", "assistant"]
_ROLES: dict[str, Role] = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class OpenAIRequestError(Exception):
    """A request refused before it reaches a worker: HTTP 400 with OpenAI's error shape."""

    def __init__(self, message: str, param: str | None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


@dataclass(frozen=True)
class OpenAIRequest:
    """A checked request: the model name, the turns (or a prompt), the generation settings, the options."""

    model: str
    params: GenerationParams
    messages: list[ChatMessage] | None
    prompt: str | None
    stream: bool
    include_usage: bool
    web_search: bool


def read_chat(body: object) -> OpenAIRequest:
    """A `/v1/chat/completions` body. Raises OpenAIRequestError."""
    fields = _object(body, CHAT_FIELDS)
    messages = fields.get("messages")
    if not isinstance(messages, list) or not messages:
        raise OpenAIRequestError("`messages` must be a non-empty list of {role, content}", "messages")
    return _request(fields, messages=[_message(m, i) for i, m in enumerate(messages)], prompt=None)


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
    return _request(fields, messages=None, prompt=prompt)


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
    unknown = set(raw) - {"role", "content", "name"}
    if unknown:
        name = sorted(unknown)[0]
        raise OpenAIRequestError(f"`{param}.{name}` is not supported by Switchboard", f"{param}.{name}")
    role = _ROLES.get(str(raw.get("role")))
    if role is None:
        raise OpenAIRequestError(f"`{param}.role` must be one of {', '.join(_ROLES)}", f"{param}.role")
    content = raw.get("content")
    if isinstance(content, list):  # content parts: text only
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise OpenAIRequestError(f"`{param}.content` may hold text parts only", f"{param}.content")
            parts.append(part["text"])
        content = "".join(parts)
    if not isinstance(content, str):
        raise OpenAIRequestError(f"`{param}.content` must be a string", f"{param}.content")
    if not content.strip():
        raise OpenAIRequestError(f"`{param}.content` is empty", f"{param}.content")
    if len(content) > MAX_PROMPT_CHARS:
        raise OpenAIRequestError(f"`{param}.content` is over {MAX_PROMPT_CHARS} characters", f"{param}.content")
    return ChatMessage(role=role, content=content)


def _request(fields: dict[str, Any], messages: list[ChatMessage] | None, prompt: str | None) -> OpenAIRequest:
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
        params=_params(fields),
        messages=messages,
        prompt=prompt,
        stream=stream,
        include_usage=bool((options or {}).get("include_usage")),
        web_search=web_search,
    )


def _params(fields: dict[str, Any]) -> GenerationParams:
    """Each setting checked on its own against GenerationParams' limits, so the error names it."""
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
    }
    wire: dict[str, Any] = {}
    for (param, name), value in given.items():
        if value is None:
            continue
        try:
            msgspec.convert({name: value}, GenerationParams)
        except msgspec.ValidationError as exc:
            detail = str(exc).split(" - at ")[0]
            raise OpenAIRequestError(f"`{param}`: {detail[0].lower() + detail[1:]}", param) from exc
        wire[name] = value
    return msgspec.convert(wire, GenerationParams)
