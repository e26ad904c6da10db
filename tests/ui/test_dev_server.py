"""`just ui-dev`: Vite's dev server (hot reload) serves the app against a running gateway, and the Explorer
starts Monaco's web workers there as in the build (they need their CommonJS imports pre-bundled)."""

from __future__ import annotations

from tests.conftest import REPO, wait_for_port
from tests.support.ui import ARTIFACTS, AppStack, run_flow


def test_dev_server_runs_the_explorer_with_its_workers(app_stack: AppStack) -> None:
    # stopped with the rest of the stack
    vite = ["node", "node_modules/vite/bin/vite.js", "--host", "127.0.0.1", "--port", str(app_stack.dev_port)]
    app_stack.start("vite", vite, cwd=REPO / "ui")
    wait_for_port(app_stack.dev_port, 60)
    result = run_flow(app_stack, "explorer", UI_URL=app_stack.dev_url, ARTIFACTS=str(ARTIFACTS / "dev-server"))
    assert '"health": "ok"' in result.figures["response"]
