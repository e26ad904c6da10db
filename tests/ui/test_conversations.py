"""The web app's conversations (a list kept in the browser) in real Chromium against the real stack."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_conversations_switch_rename_delete_undo_and_survive_a_reload(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "conversations")
    assert result.figures["titles"] == ["Name a colour."]
    assert "Paris" in result.figures["first"]
    assert result.figures["migrated"] == "An old question"
