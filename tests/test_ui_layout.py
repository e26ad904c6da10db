"""The web app at phone width and from the keyboard, in real Chromium."""

from __future__ import annotations

from tests.ui_fixtures import AppStack, app_stack, run_flow  # noqa: F401 - fixture


def test_fits_a_phone_and_works_from_the_keyboard(app_stack: AppStack) -> None:  # noqa: F811
    result = run_flow(app_stack, "layout")
    assert all(px <= 0 for px in result.figures["overflow"].values())
