"""Forced tool calls: the structural tag xgrammar builds for `required`, a named function and strict tools
compiles with the bundled tokenizer, accepts the Hermes call the fallback prompt asks for (and the parser
reads), and rejects a wrong name, wrong arguments or a second call when only one is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import xgrammar
from transformers import AutoTokenizer

from messages import ChatMessage, ErrorCode, FunctionTool, GenerateRequest, SwitchboardError, ToolChoice
from services.inference.tools import ToolCallParser, call_block, check_tool_schemas, tool_call_grammar

WEATHER = FunctionTool(
    name="get_weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
ADD = FunctionTool(
    name="add",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)
NOW = FunctionTool(name="now")  # no parameters: no arguments
PARIS = call_block("get_weather", {"city": "Paris"})
SUM = call_block("add", {"a": 1, "b": 2})


@pytest.fixture(scope="module")
def tokenizer(bundled_model: Path) -> Any:
    return AutoTokenizer.from_pretrained(str(bundled_model))


@pytest.fixture(scope="module")
def compiler(tokenizer: Any, bundled_model: Path) -> xgrammar.GrammarCompiler:
    vocab = json.loads((bundled_model / "config.json").read_text())[
        "vocab_size"
    ]  # the model's rows, not len(tokenizer)
    return xgrammar.GrammarCompiler(xgrammar.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab))


def request(tools: list[FunctionTool], choice: ToolChoice | None = None, **fields: Any) -> GenerateRequest:
    return GenerateRequest(
        request_id="g", messages=[ChatMessage("user", "hi")], tools=tools, tool_choice=choice, **fields
    )


def matcher(compiler: xgrammar.GrammarCompiler, req: GenerateRequest) -> xgrammar.GrammarMatcher:
    tag = tool_call_grammar(req)
    assert tag is not None
    return xgrammar.GrammarMatcher(compiler.compile_structural_tag(tag))


def accepts(compiler: xgrammar.GrammarCompiler, req: GenerateRequest, text: str) -> bool:
    return bool(matcher(compiler, req).accept_string(text))


def test_free_calls_have_no_grammar() -> None:
    assert tool_call_grammar(request([WEATHER])) is None  # auto, nothing strict
    assert tool_call_grammar(request([WEATHER], ToolChoice("none"))) is None
    assert tool_call_grammar(request([], ToolChoice("auto"))) is None
    strict = FunctionTool(name="s", parameters=WEATHER.parameters, strict=True)
    assert tool_call_grammar(request([strict], ToolChoice("none"))) is None


def test_required_takes_calls_of_any_tool_and_nothing_else(compiler: xgrammar.GrammarCompiler, tokenizer: Any) -> None:
    req = request([WEATHER, ADD], ToolChoice("required"))
    assert accepts(compiler, req, PARIS)
    assert accepts(compiler, req, SUM + PARIS)  # parallel calls, back to back
    assert accepts(compiler, req, '<tool_call>\n{"name": "add", "arguments": {"a":1,"b":2}}\n</tool_call>')
    assert not accepts(compiler, req, call_block("mul", {"a": 1, "b": 2}))  # no such function
    assert not accepts(compiler, req, call_block("add", {"a": 1}))  # `b` is required
    assert not accepts(compiler, req, call_block("add", {"a": "one", "b": 2}))  # `a` is an integer
    assert not accepts(compiler, req, "Sure. " + SUM)  # no text before the calls
    assert not accepts(compiler, req, SUM + "\nDone.")  # nor after them
    assert not accepts(compiler, req, SUM + "\n" + PARIS)  # nor between them
    m = matcher(compiler, req)
    assert m.accept_string(SUM)
    assert m.accept_token(tokenizer.convert_tokens_to_ids("<|im_end|>"))
    assert m.is_terminated()


def test_a_named_function_is_the_only_call_then_the_end(compiler: xgrammar.GrammarCompiler, tokenizer: Any) -> None:
    req = request([WEATHER, ADD], ToolChoice("function", "add"))
    assert not accepts(compiler, req, PARIS)
    m = matcher(compiler, req)
    assert m.accept_string(SUM)
    assert not m.accept_string("\n")  # nothing but the end of turn after it
    assert m.accept_token(tokenizer.convert_tokens_to_ids("<|im_end|>"))
    assert m.is_terminated()


def test_one_call_only_without_parallel_calls(compiler: xgrammar.GrammarCompiler) -> None:
    req = request([WEATHER, ADD], ToolChoice("required"), parallel_tool_calls=False)
    assert accepts(compiler, req, SUM)
    assert not accepts(compiler, req, SUM + PARIS)


def test_a_function_without_parameters_takes_no_arguments(compiler: xgrammar.GrammarCompiler) -> None:
    req = request([NOW], ToolChoice("function", "now"))
    assert accepts(compiler, req, call_block("now", {}))
    assert not accepts(compiler, req, call_block("now", {"x": 1}))


def test_auto_with_a_strict_tool_lets_text_be_and_holds_calls(compiler: xgrammar.GrammarCompiler) -> None:
    strict = FunctionTool(name="add", parameters=ADD.parameters, strict=True)
    loose = FunctionTool(name="get_weather", parameters=WEATHER.parameters)
    req = request([strict, loose])
    assert accepts(compiler, req, "No call needed: 1 + 2 = 3.")
    assert accepts(compiler, req, "Adding. " + SUM)
    assert not accepts(compiler, req, "Adding. " + call_block("add", {"a": "one"}))  # strict: held to the schema
    assert accepts(compiler, req, call_block("get_weather", {"town": 3}))  # not strict: any object
    assert not accepts(compiler, req, '<tool_call>\n{"name": "get_weather", "arguments": 3}\n</tool_call>')


def test_what_the_grammar_forces_the_parser_reads(compiler: xgrammar.GrammarCompiler) -> None:
    req = request([WEATHER, ADD], ToolChoice("required"))
    text = SUM + PARIS
    assert accepts(compiler, req, text)
    parser = ToolCallParser.for_request(req)
    assert parser is not None
    out = parser.feed(text)
    rest = parser.finish()
    assert [(c.name, c.arguments) for c in out.calls] == [("add", '{"a":1,"b":2}'), ("get_weather", '{"city":"Paris"}')]
    assert out.text == rest.text == ""


@pytest.mark.parametrize(
    "parameters",
    [
        {"type": "object", "properties": {"x": {"type": "frobnicate"}}},
        {"type": "object", "properties": 3},
        {"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}},
        {"type": "object", "properties": {"x": {"type": "string", "pattern": "("}}},
    ],
)
def test_a_schema_the_engine_cannot_compile_is_refused(
    compiler: xgrammar.GrammarCompiler, parameters: dict[str, Any]
) -> None:
    req = request([WEATHER, FunctionTool(name="bad", parameters=parameters)])
    with pytest.raises(SwitchboardError) as caught:
        check_tool_schemas(req, compiler, 32)
    assert caught.value.code is ErrorCode.BAD_REQUEST
    assert caught.value.field == "tools[1].parameters"
    assert "/project/" not in caught.value.message  # the engine's reason, without its source location


def test_good_schemas_pass(compiler: xgrammar.GrammarCompiler) -> None:
    check_tool_schemas(request([WEATHER, ADD, NOW]), compiler, 32)


def test_empty_parameters_are_an_empty_parameter_list(compiler: xgrammar.GrammarCompiler) -> None:
    empty = request([FunctionTool(name="f", parameters={})], ToolChoice(mode="required"))
    check_tool_schemas(empty, compiler, 32)
    compiler.compile_structural_tag(tool_call_grammar(empty))
