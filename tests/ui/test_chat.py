"""The web app's Chat in real Chromium against the real stack on the bundled model."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_question_streams_an_answer_with_the_history(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "chat_stream")
    assert "Paris" in result.figures["answer"]
    assert result.figures["updates"] >= 3


def test_stop_cancels_mid_answer(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "chat_stop")
    assert result.figures["worker"] == "idle"


def test_web_search_toggle_shows_the_offline_notice(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "chat_web_search")
    assert "not grounded" in result.figures["notice"]


def test_errors_show_in_the_conversation_and_html_stays_text(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "chat_errors")
    assert "no-such-adapter" in result.figures["error"]
