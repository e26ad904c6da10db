"""The grammar that holds a tool-calling answer to well-formed calls: xgrammar's own builder for the Hermes
format, so a forced call always parses, even on the small bundled model.

xgrammar's builtin `qwen_3` structural tag writes a call as `<tool_call>\\n{"name": "<fn>", "arguments":
<object>}\\n</tool_call>` (xgrammar/builtin_structural_tag.py, `get_qwen_3_structural_tag`): the block that
`hermes.call_block` writes, that the fallback prompt asks for and that `parser.ToolCallParser` reads. It is
Qwen2.5's format too (Qwen3 kept it), so the builtin fits the models whose own templates offer tools in it;
a model with another format (Llama 3.1's `<|python_tag|>`, Mistral's `[TOOL_CALLS]`) would need the builtin
for that format and a parser to match, which this module does not pick.
"""

from __future__ import annotations

from typing import Any, Literal

import xgrammar
from xgrammar.openai_tool_call_schema import (
    BuiltinToolParam,
    FunctionDefinition,
    FunctionToolParam,
    NamedToolChoiceFunction,
    NamedToolChoiceParam,
)
from xgrammar.structural_tag import TagsWithSeparatorFormat, TriggeredTagsFormat

from messages import FunctionTool, GenerateRequest

from .admission import forces_grammar, tool_mode

STRUCTURAL_TAG_FORMAT = "qwen_3"  # the key of xgrammar's builtin for the Hermes block

# the arguments of a function declared without `parameters` (OpenAI: "an empty parameter list")
# exactly `{}`: `{"type": "object", "properties": {}}` let the bundled model write blanks between the braces
# to max_tokens (issue 24's third tryout), since the call's JSON may hold whitespace
NO_ARGUMENTS: dict[str, Any] = {"type": "object", "const": {}}
# the arguments of a non-strict tool under `auto`: any object (well-formed, not held to its schema)
ANY_OBJECT: dict[str, Any] = {"type": "object"}


def tool_call_grammar(request: GenerateRequest) -> xgrammar.StructuralTag | None:
    """The structural tag the answer is held to, or None when its tool calls are free.

    - `tool_choice` `required`: the answer is calls and nothing else: one, or (with `parallel_tool_calls`) more,
      back to back, each naming one of `tools` with arguments matching its `parameters`, then the end of turn
      (as vLLM's `required` allows only the calls). The builtin allows any text after the calls (its
      `TriggeredTagsFormat`); its tags are kept and joined with nothing between them
      (`TagsWithSeparatorFormat`). Measured greedy on the bundled model ("weather in Paris?", two tools): the
      builtin gave the call and then a made-up answer; "\n" between calls (Qwen2.5's line) gave the call
      again and again up to `max_tokens`; nothing between gave one call and the end of turn;
    - `tool_choice` a named function: exactly one call of it, arguments matching its `parameters`, then the
      model's end of turn;
    - `auto` with at least one `strict` tool: free text, but whatever starts with `<tool_call>` is a well-formed
      call of one of `tools` (a strict tool's arguments match its schema, another's are any object);
    - `auto` without strict tools, `none`, no tools: None.
    Under forced choices every tool's schema is enforced, strict or not (as vLLM does for `required`): the
    point of forcing is a call the caller can run. `parallel_tool_calls` false allows one call only.

    The tag is not compiled here: compile it with the engine's `xgrammar.GrammarCompiler`
    (`compile_structural_tag`, which caches by the tag's JSON). Assumes `admission.offered_tools` accepted the
    request (raises ValueError from xgrammar otherwise, e.g. a named function not in `tools`).
    """
    if not forces_grammar(request):
        return None
    mode = tool_mode(request)
    forced = mode != "auto"
    specs: list[FunctionToolParam | BuiltinToolParam | dict[Any, Any]] = [
        _grammar_spec(tool, enforce=forced or tool.strict) for tool in request.tools or []
    ]
    choice: Literal["auto", "required"] | NamedToolChoiceParam = "required" if mode == "required" else "auto"
    if mode == "function":
        assert request.tool_choice is not None and request.tool_choice.name is not None
        choice = NamedToolChoiceParam(function=NamedToolChoiceFunction(name=request.tool_choice.name))
    tag = xgrammar.get_model_structural_tag(
        STRUCTURAL_TAG_FORMAT,
        tools=specs,
        tool_choice=choice,
        reasoning=False,  # no <think> block: the bundled model does not write one
        parallel_tool_calls=request.parallel_tool_calls,
    )
    if mode == "required" and isinstance(tag.format, TriggeredTagsFormat):  # calls only, adjacent (see above)
        calls = TagsWithSeparatorFormat(
            tags=tag.format.tags, separator="", at_least_one=True, stop_after_first=tag.format.stop_after_first
        )
        return xgrammar.StructuralTag(format=calls)
    return tag


def _grammar_spec(tool: FunctionTool, *, enforce: bool) -> FunctionToolParam:
    """`tool` for xgrammar's builder: `strict` true always, so the builder uses the schema given here (it
    treats a non-strict tool's schema as any JSON value, and a call's arguments must be an object)."""
    if not tool.parameters:  # None or {}: an empty parameter list
        schema = NO_ARGUMENTS if enforce else ANY_OBJECT
    else:
        schema = tool.parameters if enforce else ANY_OBJECT
    return FunctionToolParam(function=FunctionDefinition(name=tool.name, parameters=schema, strict=True))
