"""A worker that stops mid-answer is noticed within seconds, not after the 60 s token timeout: after
`PROBE_AFTER_S` of silence the gateway asks the worker that accepted the request (`infer.ping.<worker_id>`)
whether it lives and still holds the request.

A real inference worker process killed with SIGKILL mid-answer, and scripted workers (tests/support/scripted_worker.py)
that go silent while alive, forget a request, or drop their connection.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig

import nats
from messages import ErrorCode, GenerateRequest, GenerationParams, SwitchboardError, subjects
from services.gateway import GatewayConfig
from services.gateway.clients.inference import InferenceClient
from services.gateway.clients.token_relay import PROBE_AFTER_S
from services.runtime import ensure_stream
from tests.conftest import REPO, NatsServer
from tests.support.scripted_worker import Script, ScriptedWorker, scripted_worker

NOTICED_WITHIN_S = 5.0  # issue 14: a dead worker is noticed within 5 s


def request(prompt: str, max_new_tokens: int = 256) -> GenerateRequest:
    return GenerateRequest(
        request_id=uuid.uuid4().hex, prompt=prompt, params=GenerationParams(max_new_tokens=max_new_tokens)
    )


@pytest.fixture
async def client(own_nc: Client) -> InferenceClient:
    return InferenceClient(own_nc, GatewayConfig(token_timeout_s=60.0))


async def first_chunk_then_error(client: InferenceClient, asked: GenerateRequest) -> tuple[float, SwitchboardError]:
    """Read the stream; returns (seconds from the first chunk to the error, the error)."""
    first_at: float | None = None
    with pytest.raises(SwitchboardError) as caught:
        async for _ in client.stream(asked):
            first_at = first_at or time.monotonic()
    assert first_at is not None, "the worker never answered"
    return time.monotonic() - first_at, caught.value


async def test_a_silent_worker_that_holds_the_request_is_waited_for(
    own_nats: NatsServer, client: InferenceClient
) -> None:
    """Alive and working (a long prompt being read): silence longer than a probe period is not an error."""
    script = Script(["a", "b", ""], interval_s=PROBE_AFTER_S * 2.5)
    async with scripted_worker(own_nats.url, lambda _: script):
        chunks = [chunk async for chunk in client.stream(request("slow"))]
    assert "".join(c.token for c in chunks) == "ab" and chunks[-1].done


async def test_a_worker_reading_a_long_prompt_may_be_silent_past_the_token_timeout(
    own_nats: NatsServer, own_nc: Client
) -> None:
    """Silence past GATEWAY_TOKEN_TIMEOUT_S is fine while the worker confirms it holds the request."""
    short = InferenceClient(own_nc, GatewayConfig(token_timeout_s=PROBE_AFTER_S + 1))
    script = Script(["a", ""], interval_s=PROBE_AFTER_S + 2.5)  # longer than the token timeout
    async with scripted_worker(own_nats.url, lambda _: script):
        chunks = [chunk async for chunk in short.stream(request("long prompt"))]
    assert "".join(c.token for c in chunks) == "a" and chunks[-1].done


async def test_a_worker_that_no_longer_holds_the_request_is_given_up(
    own_nats: NatsServer, client: InferenceClient
) -> None:
    script = Script(["a", "b", ""], before_accept=1, interval_s=30)  # mid-answer: "a" was sent
    async with scripted_worker(own_nats.url, lambda _: script) as worker:

        async def forget() -> None:
            await asyncio.sleep(0.5)
            worker.active.clear()  # as a worker that restarted under the same id would answer

        forgetting = asyncio.create_task(forget())
        started = time.monotonic()
        with pytest.raises(SwitchboardError) as caught:
            async for _ in client.stream(request("forgotten")):
                pass
        await forgetting
    assert caught.value.code is ErrorCode.UNAVAILABLE and "no longer holds" in caught.value.message
    assert time.monotonic() - started < NOTICED_WITHIN_S


async def test_a_worker_whose_connection_drops_is_noticed(own_nats: NatsServer, client: InferenceClient) -> None:
    async def drop(worker: ScriptedWorker) -> None:
        for _ in range(100):  # until the request arrived, at most 5 s
            if worker.requests:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert worker.nc is not None
        await worker.nc.close()  # its subscriptions go with it: a probe finds no one

    async with scripted_worker(own_nats.url, lambda _: Script(["a", "b", "c", "d", "e", ""], interval_s=30)) as worker:
        dropping = asyncio.create_task(drop(worker))
        started = time.monotonic()
        with pytest.raises(SwitchboardError) as caught:
            async for _ in client.stream(request("dropped")):
                pass
        await dropping
    assert caught.value.code is ErrorCode.UNAVAILABLE and "stopped mid-answer" in caught.value.message
    assert time.monotonic() - started < NOTICED_WITHIN_S + 1


async def test_a_resume_elsewhere_learns_at_once_that_the_worker_died(own_nats: NatsServer, own_nc: Client) -> None:
    """The answer's reader on another gateway (no local record of it) asks the worker named in KV `answers`,
    instead of waiting GATEWAY_TOKEN_TIMEOUT_S for chunks that will never come."""
    tokens = StreamConfig(
        name=subjects.TOKENS_STREAM, subjects=[subjects.TOKENS_WILDCARD], storage=StorageType.FILE, max_age=3600
    )
    await ensure_stream(own_nc.jetstream(), tokens, logging.getLogger("test"))
    asking = InferenceClient(own_nc, GatewayConfig(token_timeout_s=60.0), requester="gateway-a")
    elsewhere = InferenceClient(own_nc, GatewayConfig(token_timeout_s=60.0), requester="gateway-b")
    script = Script(["a", "b", "c", ""], before_accept=1, interval_s=30)
    async with scripted_worker(own_nats.url, lambda _: script) as worker:
        asked = msgspec.structs.replace(request("dies"), request_id=await asking.reserve("key-a"))
        stream = asking.stream(asked)
        assert (await anext(stream)).token == "a"
        assert worker.nc is not None
        await worker.nc.close()  # dead: no one answers its probes
        started = time.monotonic()
        with pytest.raises(SwitchboardError) as caught:
            async for _ in elsewhere.resume(asked.request_id):
                pass
        await stream.aclose()  # type: ignore[attr-defined]
    assert caught.value.code is ErrorCode.UNAVAILABLE and "stopped mid-answer" in caught.value.message
    assert time.monotonic() - started < NOTICED_WITHIN_S + 1


@pytest.fixture
async def worker_process(own_nats: NatsServer, bundled_model: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A real inference worker in a process of its own (so it can be killed), serving on the module's NATS."""
    env = {
        **os.environ,
        "NATS_URL": own_nats.url,
        "WORKER_ID": f"doomed-{uuid.uuid4().hex[:6]}",
        "INFERENCE_MAX_CONCURRENCY": "2",
    }
    proc = subprocess.Popen([sys.executable, "-m", "services.inference"], cwd=REPO, env=env)
    nc = await nats.connect(own_nats.url)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                await nc.request(subjects.INFERENCE_INFO, b"{}", timeout=1)
                break
            except Exception:
                assert proc.poll() is None, "the worker exited"
                await asyncio.sleep(0.5)
        yield proc
    finally:
        await nc.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


async def test_a_killed_worker_is_noticed_within_seconds(
    worker_process: subprocess.Popen[bytes], client: InferenceClient
) -> None:
    asked = request("Write a very long story about a lighthouse keeper.", max_new_tokens=2000)
    killed_at: float | None = None
    with pytest.raises(SwitchboardError) as caught:
        async for _ in client.stream(asked):
            if killed_at is None:
                worker_process.send_signal(signal.SIGKILL)  # mid-answer, after the first chunk
                killed_at = time.monotonic()
    assert killed_at is not None
    noticed_after = time.monotonic() - killed_at
    assert caught.value.code is ErrorCode.UNAVAILABLE and "stopped mid-answer" in caught.value.message
    assert noticed_after < NOTICED_WITHIN_S, f"noticed after {noticed_after:.1f}s"
    print(f"killed worker noticed after {noticed_after:.2f}s")


async def test_a_request_whose_worker_stops_before_its_first_chunk_goes_to_another_worker(
    own_nats: NatsServer, client: InferenceClient
) -> None:
    """Accepted, then the worker is gone before it sent anything (queued behind other requests, say): the
    request goes to the workers again and the client sees the whole answer, no error."""
    asked = request("retried")

    async def fail_over(first: ScriptedWorker) -> None:
        for _ in range(100):  # until the first worker accepted
            if first.requests:
                break
            await asyncio.sleep(0.05)
        async with scripted_worker(own_nats.url, lambda _: Script(["x", "y", ""]), worker_id="second") as second:
            assert first.nc is not None
            await first.nc.close()  # gone before its first chunk
            for _ in range(200):
                if second.requests:
                    break
                await asyncio.sleep(0.05)
            assert [r.request_id for r in second.requests] == [asked.request_id]
            await asyncio.sleep(0.5)

    silent = Script(["a", ""], interval_s=30)
    async with scripted_worker(own_nats.url, lambda _: silent, worker_id="first") as first:
        failing_over = asyncio.create_task(fail_over(first))
        started = time.monotonic()
        chunks = [chunk async for chunk in client.stream(asked)]
        took = time.monotonic() - started
        await failing_over
    assert "".join(c.token for c in chunks) == "xy" and chunks[-1].done
    assert took < NOTICED_WITHIN_S, f"took {took:.1f}s"
