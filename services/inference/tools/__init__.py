"""Tool calls at the inference worker (issue 24): which functions a request offers and its refusals
(`admission`), the Hermes format they are offered and called in (`hermes`), the grammar that forces a
well-formed call (`forced`), and the parser that reads calls out of the streamed answer (`parser`).

Pure functions of the request and the text: no NATS, no engine. How the worker uses them:
- admission: `check_tool_schemas(request, compiler)` with the engine's grammar compiler, and
  `prompt.prompt_token_ids(tokenizer, request)` (which calls `offered_tools` and renders the tools);
- the engine: `tool_call_grammar(request)`, compiled with `compiler.compile_structural_tag`, masks the row;
- publishing: `ToolCallParser.for_request(request)` fed each text piece, then `finish()`, and
  `tool_finish_reason(reason, parser.calls)` for the last chunk.
"""

from .admission import ToolMode, check_tool_schemas, forces_grammar, offered_tools, tool_mode
from .forced import STRUCTURAL_TAG_FORMAT, tool_call_grammar
from .hermes import (
    CALL_CLOSE,
    CALL_OPEN,
    call_arguments,
    call_block,
    function_spec,
    hermes_chat,
    response_block,
    tools_block,
)
from .parser import Parsed, ToolCallParser, new_call_id, tool_finish_reason

__all__ = [
    "CALL_CLOSE",
    "CALL_OPEN",
    "STRUCTURAL_TAG_FORMAT",
    "Parsed",
    "ToolCallParser",
    "ToolMode",
    "call_arguments",
    "call_block",
    "check_tool_schemas",
    "forces_grammar",
    "function_spec",
    "hermes_chat",
    "new_call_id",
    "offered_tools",
    "response_block",
    "tool_call_grammar",
    "tool_finish_reason",
    "tool_mode",
    "tools_block",
]
