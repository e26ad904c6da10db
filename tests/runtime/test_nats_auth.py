"""NATS with one user per service: each may do its own work and nothing else; no one gets in anonymously.

A nats-server with the users `services.runtime.nats_auth` generates (as `NATS_AUTH=on just up` runs it).
Every service working with its own user, end to end, is shown by the browser tests (their stack runs
with these users and fails on any logged violation); here, the refusals.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from nats.errors import NoServersError

import nats
from messages import subjects
from services.runtime.nats_auth import OPERATOR, Credentials, permissions
from tests.conftest import REPO, NatsServer


@pytest.fixture(scope="module")
def server() -> Iterator[NatsServer]:
    started = NatsServer(auth=True)
    started.start()
    yield started
    started.cleanup()


class Login:
    """A connection as one user, with the server's asynchronous errors (permission violations) collected."""

    def __init__(self, server: NatsServer, user: str) -> None:
        self.server, self.user = server, user
        self.errors: list[str] = []
        self.nc: Client | None = None

    async def __aenter__(self) -> Client:
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc))

        self.nc = await nats.connect(
            self.server.url,
            **self.server.login(self.user),
            inbox_prefix=subjects.inbox_prefix(self.user) if self.user != OPERATOR else "_INBOX",
            error_cb=on_error,
            allow_reconnect=False,
        )
        return self.nc

    async def __aexit__(self, *exc: object) -> None:
        assert self.nc is not None
        await self.nc.close()


@pytest.fixture
async def operator(server: NatsServer) -> AsyncIterator[Client]:
    async with Login(server, OPERATOR) as nc:
        yield nc


async def delivered(operator: Client, publisher: Login, subject: str) -> bool:
    """Whether a message `publisher` sends on `subject` reaches a subscriber (the operator)."""
    sub = await operator.subscribe(subject)
    await operator.flush()
    async with publisher as nc:
        await nc.publish(subject, b"forged")
        await nc.flush()
        await asyncio.sleep(0.2)
    try:
        await sub.next_msg(timeout=0.5)
        return True
    except nats.errors.TimeoutError:
        return False
    finally:
        await sub.unsubscribe()


async def test_no_anonymous_and_no_wrong_password(server: NatsServer) -> None:
    with pytest.raises((NoServersError, nats.errors.Error)):
        await nats.connect(server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)
    with pytest.raises((NoServersError, nats.errors.Error)):
        await nats.connect(
            server.url, user="gateway", password="guess", allow_reconnect=False, max_reconnect_attempts=0
        )


async def test_the_gateway_cannot_forge_tokens_but_the_worker_can(server: NatsServer, operator: Client) -> None:
    subject = subjects.tokens_subject("forged")
    gateway = Login(server, "gateway")
    assert not await delivered(operator, gateway, subject)
    assert any("permissions violation" in e.lower() for e in gateway.errors), gateway.errors
    assert await delivered(operator, Login(server, "inference"), subject)


async def kv_put(login: Login, bucket: str) -> Any:
    async with login as nc:
        kv = await nc.jetstream().key_value(bucket)
        return await kv.put("adapter.forged", b"{}")


async def test_only_the_registry_writes_the_adapters_bucket(server: NatsServer, operator: Client) -> None:
    await operator.jetstream().create_key_value(bucket=subjects.ADAPTERS_BUCKET)
    for user in ("gateway", "inference", "search"):
        with pytest.raises(Exception):  # noqa: B017 -- refused at the JetStream API or the subject: either way
            await asyncio.wait_for(kv_put(Login(server, user), subjects.ADAPTERS_BUCKET), 5)
    assert await asyncio.wait_for(kv_put(Login(server, "adapters"), subjects.ADAPTERS_BUCKET), 5)


async def test_the_gateway_keeps_who_asked_for_each_answer(server: NatsServer) -> None:
    """KV `answers` (services/gateway/clients/answer_owners.py): the gateway creates it, reserves an id, reads it back."""
    gateway = Login(server, "gateway")
    async with gateway as nc:
        kv = await asyncio.wait_for(nc.jetstream().create_key_value(bucket=subjects.ANSWERS_BUCKET), 5)
        await kv.create(subjects.answer_key("r1"), b"{}")
        assert (await kv.get(subjects.answer_key("r1"))).value == b"{}"
    assert not gateway.errors, gateway.errors


async def test_search_cannot_read_token_streams(server: NatsServer, operator: Client) -> None:
    search = Login(server, "search")
    async with search as nc:
        await nc.subscribe(subjects.TOKENS_WILDCARD)
        await nc.flush()
        await asyncio.sleep(0.3)
        await operator.publish(subjects.tokens_subject("x"), b"secret")
        await operator.flush()
        await asyncio.sleep(0.3)
    assert any("permissions violation for subscription" in e.lower() for e in search.errors), search.errors


async def test_the_gateway_reads_chunks_back_from_tokens(server: NatsServer, operator: Client) -> None:
    """What the gateway does when chunks were lost on the way: an ordered consumer on one request's subject."""
    await operator.jetstream().add_stream(name=subjects.TOKENS_STREAM, subjects=[subjects.TOKENS_WILDCARD])
    async with Login(server, "inference") as worker:
        await worker.publish(subjects.tokens_subject("kept"), b"chunk 0")
        await worker.flush()
    gateway = Login(server, "gateway")
    async with gateway as nc:
        sub = await nc.jetstream().subscribe(
            subjects.tokens_subject("kept"), stream=subjects.TOKENS_STREAM, ordered_consumer=True
        )
        assert (await sub.next_msg(timeout=5)).data == b"chunk 0"
        await sub.unsubscribe()
    assert not gateway.errors, gateway.errors


async def test_the_gateway_hears_every_worker_follow_a_switch(server: NatsServer) -> None:
    """After a switch the gateway asks every worker on `svc.inference.follow`; each answers now and again once
    it has applied the switch, both answers allowed by `allow_responses`."""
    inference, gateway = Login(server, "inference"), Login(server, "gateway")
    async with inference as worker, gateway as nc:

        async def answer_twice(msg: Any) -> None:
            await msg.respond(b"now")
            await msg.respond(b"applied")

        await worker.subscribe(subjects.INFERENCE_FOLLOW, cb=answer_twice)
        await worker.flush()
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        await nc.flush()  # the inbox is known to the server before any answer can come
        await nc.publish(subjects.INFERENCE_FOLLOW, b'{"revision": 1}', reply=inbox)
        assert [(await sub.next_msg(timeout=5)).data for _ in range(2)] == [b"now", b"applied"]
    assert not inference.errors and not gateway.errors, (inference.errors, gateway.errors)


async def test_no_one_reads_another_services_replies(server: NatsServer) -> None:
    training = Login(server, "training")
    async with training as nc:
        await nc.subscribe(f"{subjects.inbox_prefix('gateway')}.>")
        await nc.flush()
        await asyncio.sleep(0.3)
    assert any("permissions violation for subscription" in e.lower() for e in training.errors), training.errors


def test_passwords_are_kept_and_private(tmp_path: Any) -> None:
    first = Credentials.ensure(tmp_path)
    second = Credentials.ensure(tmp_path)
    assert first.passwords == second.passwords and set(first.passwords) == {*permissions(), OPERATOR}
    conf = first.write_conf()
    for path in [conf, *tmp_path.glob("*.password")]:
        assert path.stat().st_mode & 0o077 == 0, path
    assert all(len(p) >= 24 for p in first.passwords.values())


def run_gateway(server: NatsServer, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.gateway"],
        cwd=REPO,
        env={**os.environ, "NATS_URL": server.url, "GATEWAY_PORT": "0", "NATS_CONNECT_TIMEOUT": "3", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_refused_login_says_so(server: NatsServer) -> None:
    proc = run_gateway(server, NATS_USER="gateway", NATS_PASSWORD="wrong-password")
    assert proc.returncode == 1
    assert "NATS refused the login" in proc.stderr and "Authorization Violation" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_password_file_is_a_clear_refusal(server: NatsServer, tmp_path: Path) -> None:
    proc = run_gateway(server, NATS_USER="gateway", NATS_PASSWORD_FILE=str(tmp_path / "missing"))
    assert proc.returncode == 78  # a configuration error: `just up` does not restart it
    assert "cannot start: NATS_PASSWORD_FILE=" in proc.stderr and "Traceback" not in proc.stderr


def test_a_service_logs_in_with_its_password_file(server: NatsServer, tmp_path: Path) -> None:
    """The gateway with its own login starts and serves (it stops on SIGTERM)."""
    assert server.credentials is not None
    secret = tmp_path / "gateway.password"
    secret.write_text(server.credentials.passwords["gateway"] + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.gateway"],
        cwd=REPO,
        env={
            **os.environ,
            "NATS_URL": server.url,
            "GATEWAY_PORT": "0",
            "NATS_USER": "gateway",
            "NATS_PASSWORD_FILE": str(secret),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out = ""
        assert proc.stdout is not None
        for line in proc.stdout:
            out += line
            if "graphql listening" in line or "cannot start" in line:
                break
        assert "graphql listening" in out, out
    finally:
        proc.terminate()
        proc.wait(20)
