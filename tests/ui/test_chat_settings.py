"""Per-conversation settings (answer length, temperature, system prompt) in real Chromium against the real stack."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_settings_go_with_each_question_and_stay_with_the_conversation(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "chat_settings")
    assert result.figures["sent"]["messages"][0]["role"] == "SYSTEM"
