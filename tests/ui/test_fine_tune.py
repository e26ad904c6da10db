"""The web app's Fine-tune section in real Chromium: a job from the form to a loaded adapter, on the bundled model."""

from __future__ import annotations

import pytest

from tests.support.ui import AppStack, run_flow


@pytest.mark.timeout(900)  # the stack, then two jobs on two shared cores
def test_fine_tune_from_the_form_to_a_loaded_adapter(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "fine_tune", timeout=600)
    figures = result.figures
    assert "no-such-dataset" in figures["datasetError"]
    assert "1" in figures["position"]  # waiting behind the first job
    assert figures["afterReload"]["state"] in ("running", "succeeded")
    assert len(figures["losses"]) >= 2
    # the form's word on the queued job follows it; Cancel asked, then said what it cancelled
    assert figures["notices"][0].endswith("(1 job ahead).")
    assert figures["notices"][-1].endswith("is training: see Training progress.")
    assert figures["cancelSaid"].startswith("Cancelled")
    # the form kept its values across the reload; History marks the deleted adapter; Train again fills the form
    assert figures["keptAfterReload"]["samples"] == "64"
    assert figures["gone"] == "adapter deleted"
    assert figures["filled"]["steps"] == "6"


@pytest.mark.timeout(900)  # the stack, then a small job on two shared cores can take minutes
def test_fine_tune_stages_times_chart_history_and_layout(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "fine_tune_stages", timeout=560)
    figures = result.figures
    focus = figures["focus"]
    assert focus["fieldTop"] >= focus["headerBottom"]
    assert any(s.startswith("training:") for s in figures["seen"]["stages"])
    assert figures["axes"]["y"] == "loss" and figures["axes"]["x"] == "step"
    assert "samples8" in figures["settings"]
    assert figures["widthsBefore"] == figures["widthsAsking"]
