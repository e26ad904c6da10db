"""Building the conversation the model sees from a generate request, and the prompt's token ids.

The refusals of turns are `SwitchboardError(BAD_REQUEST, words, field)` with `field` a wire path
(`messages[3].tool_call_id`); those of tools and `tool_choice` come from `tools.offered_tools`.
"""

from __future__ import annotations

from typing import Any

from messages import ChatMessage, ErrorCode, GenerateRequest, SwitchboardError

from .chat_tokens import chat_token_ids, control_tokens, renders_tools
from .grounding import ground
from .tools import call_arguments, offered_tools


def prompt_token_ids(tokenizer: Any, request: GenerateRequest) -> list[int]:
    """The prompt for `request` as token ids (with the generation prompt): its turns, grounded in its web
    sources, with the tools it offers rendered by the model's chat template or, when that template ignores
    tools, in the Hermes format (`chat_tokens.chat_token_ids`). Raises SwitchboardError BAD_REQUEST for empty
    or inconsistent turns (`build_chat`) and for bad `tools` / `tool_choice` (`tools.offered_tools`)."""
    chat, tools = build_chat(request), offered_tools(request)
    if renders_tools(tokenizer):
        _check_keys(request, control_tokens(tokenizer))
    return chat_token_ids(tokenizer, chat, tools)


def _check_keys(request: GenerateRequest, tokens: frozenset[str]) -> None:
    """Refuse a property name in a tool's `parameters` or a past call's `arguments` that holds one of the
    model's control tokens: a template that renders tools writes them as JSON, and transformers keeps control
    tokens as text only in values, not in keys (its `sanitize_control_tokens` docs)."""
    places = [(f"tools[{i}].parameters", tool.parameters) for i, tool in enumerate(request.tools or [])]
    for index, message in enumerate(request.messages or []):
        for number, call in enumerate(message.tool_calls or []):
            places.append((f"messages[{index}].tool_calls[{number}].arguments", call_arguments(call.arguments)))
    for field, value in places:
        token = _token_in_keys(value, tokens)
        if token is not None:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"has a property name holding {token!r}, a control token of the model's chat template",
                field,
            )


def _token_in_keys(value: Any, tokens: frozenset[str]) -> str | None:
    """The first control token found in a dict key anywhere inside `value` (a JSON value), or None."""
    if isinstance(value, dict):
        for key, inner in value.items():
            found = next((token for token in tokens if token in key), None) or _token_in_keys(inner, tokens)
            if found is not None:
                return found
    elif isinstance(value, list):
        for inner in value:
            found = _token_in_keys(inner, tokens)
            if found is not None:
                return found
    return None


def build_chat(request: GenerateRequest) -> list[ChatMessage]:
    """The request as chat turns, grounded in its web sources if it has any (raises as `prompt_token_ids`
    says for turns)."""
    return ground(_turns(request), request.sources or [])


def _turns(request: GenerateRequest) -> list[ChatMessage]:
    """The request's own turns; rejects empty or ambiguous input with a bad_request error."""
    if request.prompt is not None and request.messages is not None:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, "give either `prompt` or `messages`, not both")
    if request.messages is not None:
        if not request.messages:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "must not be empty", "messages")
        _check_turns(request.messages)
        return list(request.messages)
    if request.prompt is None or not request.prompt.strip():
        raise SwitchboardError(ErrorCode.BAD_REQUEST, "must not be empty", "prompt")
    return [ChatMessage(role="user", content=request.prompt)]


def _check_turns(messages: list[ChatMessage]) -> None:
    """Each turn has text, except an assistant turn that makes calls and a tool turn (a function may return
    nothing); only assistant turns make calls, each call's `arguments` is a JSON object and its id is new;
    only a tool turn has `tool_call_id`, and it must have one naming a call made before it (OpenAI's rules
    for `tool_calls` and `tool` messages)."""
    calls: set[str] = set()
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if message.tool_calls and message.role != "assistant":
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "are made only by an `assistant` turn", f"{where}.tool_calls")
        if message.tool_call_id is not None and message.role != "tool":
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "belongs only on a `tool` turn", f"{where}.tool_call_id")
        for number, call in enumerate(message.tool_calls or []):
            if call.id in calls:
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST, "repeats the id of an earlier call", f"{where}.tool_calls[{number}].id"
                )
            calls.add(call.id)
            try:
                call_arguments(call.arguments)
            except ValueError:
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST, "must be a JSON object", f"{where}.tool_calls[{number}].arguments"
                ) from None
        if message.role == "tool":
            if message.tool_call_id is None:
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST,
                    "is required on a `tool` turn: the id of the call it answers",
                    f"{where}.tool_call_id",
                )
            if message.tool_call_id not in calls:
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST,
                    f"is {message.tool_call_id!r}, which names no call an earlier assistant turn made",
                    f"{where}.tool_call_id",
                )
        elif not message.tool_calls and not message.content.strip():
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "must not be empty", f"{where}.content")
