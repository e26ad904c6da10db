"""The Chat from the keyboard in real Chromium (ui/e2e/keyboard.mjs): the message box has the keyboard on load and
after a send, the skip link lands in it past six conversations, and Esc in the edit box returns to the question."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_the_message_box_has_the_keyboard_and_esc_returns_to_the_question(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "keyboard")
    assert result.figures["conversations"] == 6
