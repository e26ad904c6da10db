"""The web app's GraphQL Explorer (GraphiQL bundled from npm) in real Chromium, offline."""

from __future__ import annotations

from tests.ui_fixtures import AppStack, app_stack, run_flow  # noqa: F401 - fixture


def test_explorer_renders_and_runs_health(app_stack: AppStack) -> None:  # noqa: F811
    result = run_flow(app_stack, "explorer")
    assert '"health": "ok"' in result.figures["response"]
