"""The web app against a gateway that wants API keys: asked for on a 401, user-key limits shown, remembered
on request (ui/e2e/keys.mjs in Chromium). A second gateway with keys and a second web-app server run beside
the shared browser stack, on its NATS and services."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.conftest import REPO, free_port, wait_for_port
from tests.support.ui import AppStack, run_flow

ADMIN = "e2e-admin-key-0123456789abcdef"
USER = "e2e-user-key-0123456789abcdef"


@pytest.fixture(scope="module")
def keyed(app_stack: AppStack) -> Iterator[AppStack]:
    gateway_port, ui_port = free_port(), free_port()
    stack = replace(app_stack, gateway_port=gateway_port, ui_port=ui_port, procs={}, logs={})
    env = {
        **stack.env(),
        **stack.nats.service_env("gateway"),
        "GATEWAY_ADMIN_KEYS": ADMIN,
        "GATEWAY_USER_KEYS": USER,
    }
    procs = [
        subprocess.Popen([sys.executable, "-m", "services.gateway"], cwd=REPO, env=env),
        subprocess.Popen([sys.executable, str(REPO / "scripts" / "serve_ui.py")], cwd=REPO, env=env),
    ]
    try:
        wait_for_port(gateway_port, 60)
        wait_for_port(ui_port, 30)
        yield stack
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)


def test_the_app_asks_for_a_key_and_shows_a_user_keys_limits(keyed: AppStack) -> None:
    result = run_flow(keyed, "keys", ADMIN_KEY=ADMIN, USER_KEY=USER)
    assert result.figures["answer"]
