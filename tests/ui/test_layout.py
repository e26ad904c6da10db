"""The web app at phone width and from the keyboard, in real Chromium."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_fits_a_phone_and_works_from_the_keyboard(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "layout")
    assert all(px <= 0 for px in result.figures["overflow"].values())
