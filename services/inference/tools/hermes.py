"""The Hermes tool-call format (Qwen2.5's, NousResearch Hermes 2 Pro's), written once: how functions are offered
in a system block, how a call and a tool's result read in the conversation.

It is the format three parts must agree on: the fallback prompt for a model whose chat template ignores tools
(`hermes_chat`), the forced-call grammar (xgrammar's builtin `qwen_3` structural tag writes exactly
`call_block`'s text), and the parser of the model's answer (`parser.ToolCallParser` reads `CALL_OPEN` ...
`CALL_CLOSE`). The system text is Qwen2.5's chat template's own (Qwen/Qwen2.5-7B-Instruct,
tokenizer_config.json), so a model trained on that format sees the words it was trained on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from messages import ChatMessage, FunctionTool

CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
RESPONSE_OPEN = "<tool_response>"
RESPONSE_CLOSE = "</tool_response>"

_OFFER_HEAD = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
_OFFER_TAIL = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n'
    "</tool_call>"
)


def function_spec(tool: FunctionTool) -> dict[str, Any]:
    """`tool` in the shape chat templates and OpenAI take: `{"type": "function", "function": {"name",
    "description", "parameters"}}` (`parameters` left out when None: a function without arguments)."""
    function: dict[str, Any] = {"name": tool.name, "description": tool.description}
    if tool.parameters:
        function["parameters"] = tool.parameters
    return {"type": "function", "function": function}


def tools_block(tools: Sequence[FunctionTool]) -> str:
    """The system text that offers `tools`: each as one line of JSON inside `<tools></tools>`, then how to
    write a call (as Qwen2.5's template words it; JSON as its `tojson` writes it: `, ` and `: `, non-ASCII
    kept)."""
    lines = "".join("\n" + json.dumps(function_spec(tool), ensure_ascii=False) for tool in tools)
    return _OFFER_HEAD + lines + _OFFER_TAIL


def call_block(name: str, arguments: dict[str, Any]) -> str:
    """One call as the model writes it: `<tool_call>\\n{"name": "<name>", "arguments": {...}}\\n</tool_call>`
    (the text xgrammar's `qwen_3` structural tag forces, and Qwen2.5's template renders a past call as)."""
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return f"{CALL_OPEN}\n{body}\n{CALL_CLOSE}"


def response_block(content: str) -> str:
    """One tool result as the model reads it: `<tool_response>\\n<content>\\n</tool_response>`."""
    return f"{RESPONSE_OPEN}\n{content}\n{RESPONSE_CLOSE}"


def hermes_chat(chat: Sequence[ChatMessage], tools: Sequence[FunctionTool]) -> list[ChatMessage]:
    """`chat` rewritten in plain system/user/assistant turns, for a chat template that knows nothing of tools.

    `tools` (may be empty) are offered in the system turn: appended to the first turn when it is a system
    turn, else in a new system turn put first. An assistant turn's `tool_calls` become `call_block`s after
    its text (one per line); a `tool` turn becomes a user turn holding its `response_block`, and consecutive
    tool turns share one user turn, as Qwen2.5's template renders them. A chat without tools and tool turns
    comes back as it was. `arguments` of past calls must be JSON objects (`prompt.build_chat` checks them;
    `call_arguments` raises ValueError otherwise).
    """
    out: list[ChatMessage] = []
    after_tool = False  # the turn before was a tool turn: its user turn takes this result too
    for message in chat:
        if message.role == "tool":
            block = response_block(message.content)
            if after_tool:
                out[-1] = ChatMessage(role="user", content=out[-1].content + "\n" + block)
            else:
                out.append(ChatMessage(role="user", content=block))
        elif message.role == "assistant" and message.tool_calls:
            calls = [call_block(call.name, call_arguments(call.arguments)) for call in message.tool_calls]
            text = [message.content] if message.content else []
            out.append(ChatMessage(role="assistant", content="\n".join(text + calls)))
        else:
            out.append(ChatMessage(role=message.role, content=message.content))
        after_tool = message.role == "tool"
    if not tools:
        return out
    if out and out[0].role == "system":
        return [ChatMessage(role="system", content=out[0].content + "\n\n" + tools_block(tools)), *out[1:]]
    return [ChatMessage(role="system", content=tools_block(tools)), *out]


def call_arguments(text: str) -> dict[str, Any]:
    """A call's `arguments` (JSON text) as the object it holds. Raises ValueError (json.JSONDecodeError is
    one) when the text is not JSON or not an object."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("a tool call's arguments must be a JSON object")
    return value
