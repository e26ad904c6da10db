"""The actor runtime: connect, micro registration ($SRV.PING/INFO/STATS), clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from typing import ClassVar

import pytest
from nats.aio.client import Client

from messages import ErrorCode, SwitchboardError
from services.runtime import Actor, ActorContext, Settings, running
from services.runtime.connection import connect
from services.runtime.logs import get_logger
from tests.conftest import REPO, NatsServer, free_port


class Echo(Actor):
    name: ClassVar[str] = "echo"
    description: ClassVar[str] = "test actor"

    def __init__(self) -> None:
        self.stopped = False

    async def start(self, ctx: ActorContext) -> None:
        async def handler(req):  # type: ignore[no-untyped-def]
            await req.respond(req.data)

        await ctx.service.add_endpoint(name="echo", subject="svc.echo", handler=handler)

    async def stop(self) -> None:
        self.stopped = True


async def test_actor_registers_and_stops(nc: Client, base_settings: Settings) -> None:
    actor = Echo()
    async with running(actor, base_settings) as ctx:
        assert ctx.nc.is_connected
        assert (await nc.request("svc.echo", b"ping", timeout=2)).data == b"ping"
        ping = json.loads((await nc.request("$SRV.PING.echo", b"", timeout=2)).data)
        assert ping["name"] == "echo" and ping["metadata"]["worker_id"] == base_settings.worker_id
        info = json.loads((await nc.request("$SRV.INFO.echo", b"", timeout=2)).data)
        assert [e["subject"] for e in info["endpoints"]] == ["svc.echo"]
        stats = json.loads((await nc.request("$SRV.STATS.echo", b"", timeout=2)).data)
        assert stats["endpoints"][0]["num_requests"] == 1
    assert actor.stopped
    assert ctx.nc.is_closed


async def test_connect_gives_a_clear_error_when_nats_is_down(base_settings: Settings) -> None:
    settings = replace(base_settings, nats_url=f"nats://127.0.0.1:{free_port()}", connect_timeout_s=0.5)
    with pytest.raises(SwitchboardError) as raised:
        await connect(settings, "t", get_logger("test"))
    assert raised.value.code is ErrorCode.UNAVAILABLE
    assert "cannot reach NATS" in raised.value.message


async def test_connect_waits_for_a_late_server(base_settings: Settings) -> None:
    server = NatsServer()
    settings = replace(base_settings, nats_url=server.url, connect_timeout_s=15)
    task = asyncio.create_task(connect(settings, "t", get_logger("test")))
    await asyncio.sleep(0.5)
    server.start()
    try:
        client = await asyncio.wait_for(task, 15)
        assert client.is_connected
        await client.close()
    finally:
        server.cleanup()


def service_env(nats_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "NATS_URL": nats_url, "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.parametrize(("name", "extra"), [("gateway", {"GATEWAY_PORT": "0"}), ("inference", {})])
async def test_service_process_answers_ping_and_exits_0_on_sigterm(
    nc: Client, nats_server: NatsServer, name: str, extra: dict[str, str], bundled_model: object
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"],
        cwd=REPO,
        env=service_env(nats_server.url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        pings: list[dict[str, object]] = []

        async def pinged() -> None:
            try:
                reply = await nc.request(f"$SRV.PING.{name}", b"", timeout=0.5)
                pings.append(json.loads(reply.data))
            except Exception:
                await asyncio.sleep(0.2)

        async def until_pinged() -> None:
            while not pings:
                await pinged()

        await asyncio.wait_for(until_pinged(), 60)
        assert pings[0]["name"] == name
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out.decode()
        assert b"stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_sigterm_while_starting_exits_0_promptly(nats_server: NatsServer) -> None:
    """Stopped while it would still be waiting for NATS (a long start), the service exits at once."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.gateway"],
        cwd=REPO,
        env=service_env(f"nats://127.0.0.1:{free_port()}", NATS_CONNECT_TIMEOUT="120", GATEWAY_PORT="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await asyncio.sleep(5)  # imports done, now retrying the connect
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, out.decode()
        assert b"stopped while starting" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_service_exits_1_with_a_message_when_nats_is_unreachable() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "services.gateway"],
        cwd=REPO,
        env=service_env(f"nats://127.0.0.1:{free_port()}", NATS_CONNECT_TIMEOUT="0.5", GATEWAY_PORT="0"),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert b"cannot reach NATS" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_logs_never_carry_a_bearer_token() -> None:
    """aiohttp quotes a refused header line in its error log; the key in it is redacted, in text and JSON."""
    import logging

    from services.runtime.logs import _Formatter

    record = logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Error handling request: b'Bearer s3cret-key_0123456789 zz'",
        None,
        None,
    )
    for as_json in (False, True):
        line = _Formatter(as_json=as_json).format(record)
        assert "s3cret-key_0123456789" not in line and "[redacted]" in line
