"""The Chat on a phone in real Chromium: compact controls, the open conversation's name, a labelled ☰."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_phone_controls_are_compact_and_name_the_conversation(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "phone_chat")
    assert result.figures["top"] <= 150  # 253 before issue 28; the header names what answers (two lines at 390)
