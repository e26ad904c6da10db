"""What the web app says when something is wrong, in plain words, in real Chromium (ui/e2e/plain_words.mjs): an unknown
dataset names the datasets there are (not the GraphQL argument or the server's folder), and the header says
"Can't reach the server" (not "gateway unreachable")."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow


def test_unknown_dataset_and_unreachable_server_in_plain_words(app_stack: AppStack) -> None:
    figures = run_flow(app_stack, "plain_words").figures
    assert figures["datasetError"].startswith("There is no dataset")
    assert figures["unreachable"] == "Can't reach the server"
