"""The streaming tool-call parser: calls out of Hermes blocks whatever the piece boundaries, text outside them
let out as soon as it is settled, malformed blocks kept as text, and the finish reason a call makes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from messages import ChatMessage, FinishReason, FunctionTool, GenerateRequest, ToolChoice
from services.inference.tools import Parsed, ToolCallParser, call_block, tool_finish_reason

PARIS = call_block("get_weather", {"city": "Paris"})
SUM = call_block("add", {"a": 1, "b": 2})


def run(pieces: list[str], *, parallel: bool = True) -> tuple[list[str], list[tuple[str, str]]]:
    """Feed `pieces`, then finish: the text of each step that let some out, and the calls (name, arguments)."""
    parser = ToolCallParser(["get_weather", "add"], parallel=parallel)
    steps = [parser.feed(piece) for piece in pieces] + [parser.finish()]
    calls = [(call.name, call.arguments) for step in steps for call in step.calls]
    assert parser.calls == len(calls)
    return [step.text for step in steps if step.text], calls


def chars(text: str) -> list[str]:
    return list(text)


def test_text_without_calls_goes_out_as_it_comes() -> None:
    parser = ToolCallParser(["add"])
    assert parser.feed("Hello") == Parsed("Hello")
    assert parser.feed(" world, 1 < 2") == Parsed(" world, 1 < 2")
    assert not parser.finish()


def test_a_possible_tag_start_is_held_until_the_next_piece() -> None:
    parser = ToolCallParser(["add"])
    assert parser.feed("Look: <tool") == Parsed("Look: ")
    assert parser.feed("box> here") == Parsed("<toolbox> here")
    assert parser.feed("a <") == Parsed("a ")
    assert parser.finish() == Parsed("<")


@pytest.mark.parametrize("split", [chars, lambda text: [text], lambda text: re.findall(r".{1,5}", text, re.S)])
def test_a_call_is_read_across_any_piece_boundaries(split: Callable[[str], list[str]]) -> None:
    texts, calls = run(split("Checking the weather.\n" + PARIS))
    assert "".join(texts) == "Checking the weather.\n"
    assert calls == [("get_weather", '{"city":"Paris"}')]


def test_two_calls_and_the_whitespace_around_them() -> None:
    texts, calls = run(chars(SUM + "\n" + PARIS + "\n"))
    assert texts == []  # the newline between and after the calls does not leak out
    assert calls == [("add", '{"a":1,"b":2}'), ("get_weather", '{"city":"Paris"}')]


def test_text_after_a_call_starts_at_its_first_word() -> None:
    texts, calls = run([SUM, "\n\n", "Done."])
    assert texts == ["Done."]
    assert len(calls) == 1


@pytest.mark.parametrize(
    "block",
    [
        '<tool_call>\n{"name": "add", "arguments": {"a": 1,}\n</tool_call>',  # not JSON
        '<tool_call>\n{"name": "mul", "arguments": {"a": 1}}\n</tool_call>',  # not offered
        '<tool_call>\n{"name": "add"}\n</tool_call>',  # no arguments
        '<tool_call>\n{"name": "add", "arguments": "{\\"a\\": 1}"}\n</tool_call>',  # arguments not an object
        "<tool_call>\n[1, 2]\n</tool_call>",
    ],
)
def test_a_malformed_block_stays_text(block: str) -> None:
    texts, calls = run(["Before ", block, " after"])
    assert "".join(texts) == "Before " + block + " after"
    assert calls == []


def test_a_good_call_after_a_malformed_one_is_still_read() -> None:
    bad = '<tool_call>\n{"name": "mul"}\n</tool_call>'
    texts, calls = run(chars(bad + "\n" + SUM))
    assert "".join(texts) == bad + "\n"
    assert calls == [("add", '{"a":1,"b":2}')]


def test_an_unclosed_block_goes_out_as_text_at_the_end() -> None:
    cut = '<tool_call>\n{"name": "add", "arguments": {"a": 1'
    texts, calls = run(["Sure. ", cut])
    assert texts == ["Sure. ", cut]
    assert calls == []


def test_one_call_only_when_parallel_calls_are_off() -> None:
    texts, calls = run([SUM, "\n", PARIS], parallel=False)
    assert calls == [("add", '{"a":1,"b":2}')]
    assert texts == [PARIS]


def test_each_call_gets_its_own_id_and_compact_arguments() -> None:
    parser = ToolCallParser(["get_weather"])
    spaced = '<tool_call>\n{"name": "get_weather", "arguments": {"city":  "Zürich",\n "days": [1, 2]}}\n</tool_call>'
    calls = parser.feed(spaced + spaced).calls
    assert [call.arguments for call in calls] == ['{"city":"Zürich","days":[1,2]}'] * 2
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", call.id) for call in calls)
    assert calls[0].id != calls[1].id


def test_a_parser_only_where_tools_are_offered() -> None:
    tools = [FunctionTool(name="add")]
    chat = [ChatMessage("user", "hi")]
    assert ToolCallParser.for_request(GenerateRequest(request_id="p", messages=chat)) is None
    none = GenerateRequest(request_id="p", messages=chat, tools=tools, tool_choice=ToolChoice("none"))
    assert ToolCallParser.for_request(none) is None
    parser = ToolCallParser.for_request(GenerateRequest(request_id="p", messages=chat, tools=tools))
    assert parser is not None
    assert parser.feed(call_block("add", {})).calls[0].name == "add"


@pytest.mark.parametrize(
    ("reason", "calls", "expected"),
    [
        (FinishReason.STOP, 1, FinishReason.TOOL_CALLS),
        (FinishReason.STOP_STRING, 2, FinishReason.TOOL_CALLS),
        (FinishReason.STOP, 0, FinishReason.STOP),
        (FinishReason.LENGTH, 1, FinishReason.LENGTH),
        (FinishReason.CANCELLED, 1, FinishReason.CANCELLED),
        (FinishReason.ERROR, 1, FinishReason.ERROR),
    ],
)
def test_the_finish_reason(reason: FinishReason, calls: int, expected: FinishReason) -> None:
    assert tool_finish_reason(reason, calls) is expected
