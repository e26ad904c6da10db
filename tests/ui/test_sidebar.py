"""The conversations sidebar in real Chromium: long titles show whole, a streaming conversation says so."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_long_titles_show_and_a_streaming_conversation_says_answering(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "sidebar")
    assert "answering" in result.figures["answering"]
