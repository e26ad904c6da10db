"""The web app's Fine-tune section in real Chromium: a job from the form to a loaded adapter, on the bundled model."""

from __future__ import annotations

from tests.ui_fixtures import AppStack, run_flow


def test_fine_tune_from_the_form_to_a_loaded_adapter(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "fine_tune", timeout=600)
    figures = result.figures
    assert "no-such-dataset" in figures["datasetError"]
    assert "1" in figures["position"]  # waiting behind the first job
    assert figures["afterReload"]["state"] in ("running", "succeeded")
    assert len(figures["losses"]) >= 2
