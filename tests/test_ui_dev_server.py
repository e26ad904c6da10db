"""`just ui-dev`: Vite's dev server (hot reload) serves the app against a running gateway, and the Explorer
starts Monaco's web workers there as in the build (they need their CommonJS imports pre-bundled)."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import REPO, wait_for_port
from tests.ui_fixtures import ARTIFACTS, AppStack, run_flow


def test_dev_server_runs_the_explorer_with_its_workers(app_stack: AppStack) -> None:
    log = open(app_stack.workdir / "vite.log", "wb")  # noqa: SIM115 - closed below
    vite = subprocess.Popen(
        ["node", "node_modules/vite/bin/vite.js", "--host", "127.0.0.1", "--port", str(app_stack.dev_port)],
        cwd=REPO / "ui",
        env={**os.environ, "VITE_GRAPHQL_URL": app_stack.graphql_url},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(app_stack.dev_port, 60)
        result = run_flow(app_stack, "explorer", UI_URL=app_stack.dev_url, ARTIFACTS=str(ARTIFACTS / "dev-server"))
    finally:
        vite.terminate()
        vite.wait(20)
        log.close()
    assert '"health": "ok"' in result.figures["response"]
