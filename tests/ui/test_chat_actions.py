"""The Chat's message actions in real Chromium against the real stack: Copy, Copy code, Regenerate, Edit, code
block labels and highlighting, answer figures, long messages collapsed, and the web-search stage."""

from __future__ import annotations

import re

from tests.support.ui import AppStack, run_flow


def test_message_actions_code_blocks_figures_and_stages(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "chat_actions", timeout=480.0)
    figures = result.figures
    assert re.fullmatch(r"\d+\.\d s to first token · \d+\.\d tokens/s", figures["figures"])
    assert "Paris" in figures["copied"]
    assert "tokens" in figures["overflowError"]
    assert "not grounded" in figures["notice"]
    assert figures["openHeight"] > 3 * figures["collapsedHeight"]
