"""The web app's GraphQL Explorer (GraphiQL bundled from npm) in real Chromium, offline."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_explorer_renders_and_runs_health(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "explorer")
    assert '"health": "ok"' in result.figures["response"]
    assert "Run a query" in result.figures["hint"]
    assert '"health": "ok"' in result.figures["afterSubscription"]


def test_explorer_streams_a_subscriptions_text_and_fits_a_phone(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "explorer_stream")
    assert result.figures["reads"] >= 2
    assert result.figures["answer"].strip()
    assert result.figures["width"] > 300


def test_explorer_on_a_phone_docs_cover_the_editors_and_stay_closed_after_reload(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "explorer_phone")
    figures = result.figures
    assert figures["withDocs"]["editor"] == figures["before"]["editor"]
    assert figures["afterReload"]["docs"] == 0
