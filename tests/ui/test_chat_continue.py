"""Continue after an answer cut off at the token limit, in real Chromium against the real stack."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_continue_adds_the_rest_to_the_cut_off_answer(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "chat_continue")
    assert result.figures["tokens"] > 16
