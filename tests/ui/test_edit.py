"""Editing a question in real Chromium (ui/e2e/edit.mjs): the pencil beside the question, the edit box whole in view
at phone width, and Save's dropped turns undoable as Delete and Clear chat are."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_edit_box_in_view_pencil_beside_the_text_and_undo_after_resend(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "edit")
    assert result.figures["message"] == "Question resent; the 5 messages after it were removed"
    assert set(result.figures["place"]) == {"1280", "390"}
