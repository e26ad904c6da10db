"""The web app's Datasets panel, evaluation chart and Compare in real Chromium: upload a chat JSONL, train on it with
evaluations, see both loss series, compare the adapter's answers with the base model's, delete the dataset."""

from __future__ import annotations

import pytest

from tests.support.ui import AppStack, run_flow


@pytest.mark.timeout(900)  # the stack, then a 4-step job with 3 evaluations and 4 short answers on two shared cores
def test_upload_a_dataset_train_with_evaluation_and_compare(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "datasets", timeout=600)
    figures = result.figures
    assert "line 3" in figures["badUpload"]
    assert figures["uploaded"] == {"format": "chat", "rows": "60"}
    steps = [point["step"] for point in figures["evalHistory"]]
    assert steps[0] == 0 and len(steps) >= 2  # the base model, then at least one evaluation during training
    assert figures["evalPoints"] == len(steps)
    assert "training loss" in figures["legend"] and "evaluation loss" in figures["legend"]
    assert figures["rows"]["validation"] and figures["rows"]["train"] + figures["rows"]["validation"] == 60
    assert figures["compare"]["bothStreaming"]
