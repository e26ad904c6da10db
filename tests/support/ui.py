"""The whole product as `just up` runs it, on free ports, for the browser tests: nats-server, every service
and the web-app server as real processes; and a runner for the flows in ui/e2e (Chromium via playwright-core)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

import nats
from tests.conftest import REPO, NatsServer, free_port, wait_for_port

SERVICES = ("inference", "search", "adapters", "training", "gateway")
READY_SERVICES = {"inference", "search", "adapters", "training"}  # answer NATS micro PING once serving
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@dataclass
class AppStack:
    nats: NatsServer
    gateway_port: int
    ui_port: int
    workdir: Path
    dev_port: int = field(default_factory=free_port)  # for `just ui-dev`'s Vite server, when a test starts one
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}/graphql"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    @property
    def dev_url(self) -> str:
        return f"http://127.0.0.1:{self.dev_port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "NATS_URL": self.nats.url,
            "PYTHONUNBUFFERED": "1",
            "GATEWAY_PORT": str(self.gateway_port),
            "CORS_ORIGINS": f"{self.ui_url},http://localhost:{self.ui_port},{self.dev_url}",
            "ADAPTER_DIR": str(self.workdir / "adapters"),
            # search goes through a proxy that refuses connections: offline on every machine, as it is here
            "DDGS_PROXY": f"http://127.0.0.1:{free_port()}",
            "SEARCH_TIMEOUT_S": "3",
            "GRAPHQL_URL": self.graphql_url,
            "VITE_GRAPHQL_URL": self.graphql_url,  # for Vite's dev server, when a test starts one
            "UI_PORT": str(self.ui_port),
            "UI_HOST": "127.0.0.1",
        }

    def start(self, name: str, argv: list[str], cwd: Path = REPO) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.logs[name] = log
        env = {**self.env(), **(self.nats.service_env(name) if name in SERVICES else {})}
        self.procs[name] = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            if self._ready():
                return
            time.sleep(0.3)
        raise TimeoutError("the stack did not come up:\n" + "\n".join(self.log_tail(n, 10) for n in self.procs))

    def _ready(self) -> bool:
        with contextlib.suppress(OSError, ValueError):
            if asyncio.run(self._answering()) != READY_SERVICES:
                return False
            info = graphql(self.graphql_url, "{ modelInfo { modelId } }")
            with urllib.request.urlopen(f"{self.ui_url}/config.js", timeout=2) as response:
                return bool(info.get("data")) and response.status == 200
        return False

    async def _answering(self) -> set[str]:
        """The services that answer `$SRV.PING.<name>` (each registers with NATS micro once it serves)."""
        nc = await nats.connect(self.nats.url, **self.nats.login())
        try:
            found: set[str] = set()
            for service in READY_SERVICES:
                with contextlib.suppress(Exception):
                    await nc.request(f"$SRV.PING.{service}", b"", timeout=0.5)
                    found.add(service)
            return found
        finally:
            await nc.close()

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in self.logs.values():
            log.close()


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


@contextlib.contextmanager
def running_app_stack() -> Iterator[AppStack]:
    """Every service and the web app as separate processes on a private nats-server (the `app_stack` fixture in
    conftest.py: the browser flows share it, and each leaves the base model active). NATS runs with one user
    per service, each with only its own permissions, as `NATS_AUTH=on just up` does: every browser flow is
    also a check that no service needs more; the session fails if nats-server logged a violation."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run scripts/ensure_chromium.sh (just test does)")
    if not (REPO / "ui" / "dist" / "index.html").exists():
        pytest.fail("the web app is not built: run scripts/build_ui.sh (just test does)")
    nats_server = NatsServer(auth=True)
    nats_server.start()
    workdir = Path(tempfile.mkdtemp(prefix="sb-ui-"))
    stack = AppStack(nats_server, free_port(), free_port(), workdir)
    try:
        for name in SERVICES:
            stack.start(name, [sys.executable, "-m", f"services.{name}"])
        stack.start("ui", [sys.executable, str(REPO / "scripts" / "serve_ui.py")])
        wait_for_port(stack.ui_port, 30)
        stack.wait_ready()
        yield stack
        assert not nats_server.violations(), "a service lacked a NATS permission:\n" + "\n".join(
            nats_server.violations()[:20]
        )
    finally:
        stack.stop()
        nats_server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class FlowResult:
    figures: dict[str, Any]
    output: str


def run_flow(stack: AppStack, name: str, timeout: float = 240.0, **env: str) -> FlowResult:
    """Run ui/e2e/<name>.mjs in Chromium against `stack`; fail with its output unless it passed."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["node", str(REPO / "ui" / "e2e" / f"{name}.mjs")],
        cwd=REPO / "ui",
        env={
            **os.environ,
            "UI_URL": stack.ui_url,
            "GRAPHQL_URL": stack.graphql_url,
            "ARTIFACTS": str(ARTIFACTS),
            "CHROMIUM": CHROMIUM,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        logs = "\n".join(f"--- {n} ---\n{stack.log_tail(n, 15)}" for n in ("gateway", "inference", "training"))
        pytest.fail(f"browser flow {name} failed (exit {proc.returncode}):\n{output}\n{logs}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"flow {name} printed no RESULT line:\n{output}"
    print(lines[-1])  # the flow's figures, shown with `pytest -rP` or `-s`
    figures: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    assert figures["ok"] is True
    return FlowResult(figures, output)
