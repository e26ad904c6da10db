"""The web app's Chat in real Chromium against the real stack on the bundled model."""

from __future__ import annotations

from tests.ui_fixtures import AppStack, app_stack, run_flow  # noqa: F401 - fixture

ARTIFACTS_NOTE = "screenshots land in test-artifacts/ui/"


def test_question_streams_an_answer_with_the_history(app_stack: AppStack) -> None:  # noqa: F811
    result = run_flow(app_stack, "chat_stream")
    assert "Paris" in result.figures["answer"]
    assert result.figures["updates"] >= 3
