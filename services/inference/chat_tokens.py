"""A chat as token ids, every message's text read as text: never as the model's control tokens.

Tokenizing a rendered chat template in one go reads `<|im_start|>` typed by a user as the model's real
turn marker, so anyone could forge a `system` turn inside a message. Here the template is rendered with
a placeholder for each message's content; the template's own text is tokenized as usual (its control
tokens are real), and each content with `split_special_tokens=True` (the same characters, as plain
text). A template that does not keep a placeholder as it is (it edits message content) cannot be split
so: then the whole prompt is read as plain text, which is safe but weakens the template's markers, and
a warning says so once.

Tools: a template that renders them (it reads `tools`) gets the functions, past calls and tool results in
Hugging Face's shapes, and the prompt is rendered and tokenized by transformers with
`sanitize_control_tokens=True`, which keeps control tokens in every given string (contents, descriptions,
schemas, arguments) as text; placeholders could not: a template writes tools and arguments as JSON. It
leaves dict keys alone, so `prompt.prompt_token_ids` refuses a property name that holds a control token. Any
other template gets the chat rewritten in plain turns in the Hermes format (`tools.hermes_chat`), all of it
message content, so the path above.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from messages import ChatMessage, FunctionTool

from .tools import call_arguments, function_spec, hermes_chat

log = logging.getLogger("switchboard.inference")
_warned = False


def _placeholder(index: int) -> str:
    # Unicode private-use characters: in no template, not trimmed, never split by Jinja filters
    return f"\ue000{index}\ue001"


def renders_tools(tokenizer: Any) -> bool:
    """Whether the tokenizer's chat template renders tools (it mentions `tools`, the variable transformers
    passes them in, as vLLM and transformers' own docs tell such templates apart)."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # named templates ("default", "tool_use")
        template = " ".join(str(text) for text in template.values())
    return isinstance(template, str) and "tools" in template


def control_tokens(tokenizer: Any) -> frozenset[str]:
    """The strings the tokenizer reads as one control token: its special tokens, and its other added tokens
    that the chat template writes (as transformers' `sanitize_control_tokens` counts them)."""
    template = getattr(tokenizer, "chat_template", None)
    text = " ".join(str(t) for t in template.values()) if isinstance(template, dict) else str(template or "")
    added = getattr(tokenizer, "added_tokens_decoder", {}).values()
    found = {str(token.content) for token in added if token.special or str(token.content) in text}
    return frozenset(found | {str(token) for token in tokenizer.all_special_tokens})


def chat_token_ids(tokenizer: Any, chat: list[ChatMessage], tools: Sequence[FunctionTool] = ()) -> list[int]:
    """The prompt for `chat` (with the generation prompt) offering `tools`, as a list of token ids.

    `chat` may hold assistant turns with `tool_calls` (their `arguments` JSON objects: `prompt.build_chat`
    checks) and `tool` turns. With a template that renders tools (`renders_tools`) they go to the template;
    else they are rewritten in the Hermes format first (`tools.hermes_chat`). Without tools or tool turns,
    the chat is rendered as it always was."""
    if tools or any(m.tool_calls or m.role == "tool" for m in chat):
        if renders_tools(tokenizer):
            return _with_tool_template(tokenizer, chat, tools)
        chat = hermes_chat(chat, tools)
    if not getattr(tokenizer, "chat_template", None):
        text = "\n".join(m.content for m in chat)
        return list(tokenizer(text, split_special_tokens=True)["input_ids"])
    marked = [{"role": m.role, "content": _placeholder(i)} for i, m in enumerate(chat)]
    rendered = str(tokenizer.apply_chat_template(marked, tokenize=False, add_generation_prompt=True))
    ids: list[int] = []
    rest = rendered
    for index, message in enumerate(chat):
        before, found, after = rest.partition(_placeholder(index))
        if not found:
            return _all_as_text(tokenizer, chat)
        ids += tokenizer.encode(before, add_special_tokens=False)  # the template's text, markers included
        ids += tokenizer.encode(message.content, add_special_tokens=False, split_special_tokens=True)
        rest = after
    return ids + list(tokenizer.encode(rest, add_special_tokens=False))


def _all_as_text(tokenizer: Any, chat: list[ChatMessage]) -> list[int]:
    global _warned
    if not _warned:
        _warned = True
        log.warning("the chat template edits message text; the whole prompt is read as plain text")
    rendered = tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in chat], tokenize=False, add_generation_prompt=True
    )
    return list(tokenizer.encode(str(rendered), add_special_tokens=False, split_special_tokens=True))


def _with_tool_template(tokenizer: Any, chat: list[ChatMessage], tools: Sequence[FunctionTool]) -> list[int]:
    """Render `chat` and `tools` with a template that knows them, in Hugging Face's shapes (an assistant turn's
    `tool_calls` as `{"type": "function", "id", "function": {"name", "arguments": <object>}}`, a tool turn
    with its `tool_call_id` and the called function's `name`), every given string's control tokens as text."""
    names = {call.id: call.name for m in chat for call in m.tool_calls or []}
    messages: list[dict[str, Any]] = []
    for message in chat:
        turn: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            turn["tool_calls"] = [
                {
                    "type": "function",
                    "id": call.id,
                    "function": {"name": call.name, "arguments": call_arguments(call.arguments)},
                }
                for call in message.tool_calls
            ]
        if message.tool_call_id is not None:
            turn["tool_call_id"] = message.tool_call_id
            turn["name"] = names.get(message.tool_call_id, "")
        messages.append(turn)
    ids = tokenizer.apply_chat_template(
        messages,
        tools=[function_spec(tool) for tool in tools] or None,
        add_generation_prompt=True,
        tokenize=True,
        return_dict=False,
        sanitize_control_tokens=True,
    )
    return [int(i) for i in ids]
