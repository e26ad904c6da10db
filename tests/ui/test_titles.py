"""The browser tab's title names the section and the open conversation, in real Chromium (ui/e2e/titles.mjs)."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_the_tab_title_names_the_section_and_the_conversation(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "titles")
    assert result.figures["titles"][0] == "Chat · Capital of France — Switchboard"
    assert "Fine-tune — Switchboard" in result.figures["titles"]
