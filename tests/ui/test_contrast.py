"""No text under WCAG AA contrast (4.5:1, axe-core's color-contrast rule) in the Chat, the edit box, the chat's
Settings, Fine-tune and the Explorer (docs open), light and dark, at laptop and phone width, in real Chromium (ui/e2e/contrast.mjs)."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_every_text_reaches_wcag_aa_contrast_in_both_schemes(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "contrast")
    checked = set(result.figures["checked"])
    for view in ("chat", "edit", "chat-settings", "fine-tune", "explorer", "explorer-docs"):
        for scheme in ("light", "dark"):
            assert {f"{view} {scheme} 1280px", f"{view} {scheme} 390px"} <= checked
