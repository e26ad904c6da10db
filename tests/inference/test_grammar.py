"""The grammar module on the bundled model's tokenizer, without a model: choices with quotes, backslashes,
new lines and non-ASCII text are matched exactly and nothing else; a structural tag (forced tool calls)
compiles and an invalid one is refused on `tools`; the engine's errors lose their source-file prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
import xgrammar as xgr
from transformers import AutoTokenizer

from messages import ChoiceConstraint, ErrorCode, RegexConstraint, SwitchboardError
from services.inference.grammar import Grammars, RowGrammar

CHOICES = ['a "quoted" word', "back\\slash", "two\nlines", "café ☕", "tab\there"]


@pytest.fixture(scope="module")
def grammars(bundled_model: Path) -> Grammars:
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model))
    return Grammars(tokenizer, 49152, {int(tokenizer.eos_token_id)})


def matches(grammars: Grammars, compiled: object, text: str) -> bool:
    matcher = xgr.GrammarMatcher(compiled.grammar)  # type: ignore[attr-defined]
    return bool(matcher.accept_string(text)) and bool(matcher.is_completed())


def test_choices_match_exactly(grammars: Grammars) -> None:
    compiled = grammars.compile(ChoiceConstraint(CHOICES))
    assert compiled.kind == "choice"
    assert all(matches(grammars, compiled, choice) for choice in CHOICES)
    assert not matches(grammars, compiled, "café")
    assert not matches(grammars, compiled, 'a "quoted" word!')


def test_a_row_grammar_terminates_on_the_end_of_turn_token(grammars: Grammars, bundled_model: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model))
    row = RowGrammar(grammars.compile(ChoiceConstraint(["yes"])))
    for token in tokenizer.encode("yes", add_special_tokens=False):
        assert row.accept(token)
    assert not row.terminated
    assert row.accept(int(tokenizer.eos_token_id)) and row.terminated


def test_a_structural_tag_compiles_and_a_bad_one_names_tools(grammars: Grammars) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    tag = xgr.get_model_structural_tag("qwen_3", tools=[tool], tool_choice="required")
    assert grammars.compile_structural_tag(tag).kind == "structural_tag"
    with pytest.raises(SwitchboardError) as refused:
        grammars.compile_structural_tag({"type": "structural_tag", "format": {"type": "nope"}})
    assert (refused.value.code, refused.value.field) == (ErrorCode.BAD_REQUEST, "tools")


def test_an_engine_error_reads_without_its_source_prefix(grammars: Grammars) -> None:
    with pytest.raises(SwitchboardError) as refused:
        grammars.compile(RegexConstraint("[a-"))
    assert refused.value.field == "constraint"
    assert (
        refused.value.message
        == "holds a regex the grammar engine cannot use: Regex parsing error at position 4: Unclosed '['"
    )
