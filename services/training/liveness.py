"""Which training workers are alive: every running one answers the NATS micro ping with its worker id."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
from nats.aio.client import Client

from messages import subjects

PING_SUBJECT = f"$SRV.PING.{subjects.TRAINING_SERVICE}"


async def live_workers(nc: Client, wait_s: float = 0.5) -> set[str]:
    """The worker ids of the training services that answer a ping within `wait_s`."""
    inbox = nc.new_inbox()
    found: set[str] = set()
    sub = await nc.subscribe(inbox)
    try:
        await nc.publish(PING_SUBJECT, b"", reply=inbox)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while (left := deadline - loop.time()) > 0:
            try:
                msg = await sub.next_msg(timeout=left)
            except TimeoutError:
                break
            with contextlib.suppress(msgspec.DecodeError):
                answer: Any = msgspec.json.decode(msg.data)
                worker = answer.get("metadata", {}).get("worker_id") if isinstance(answer, dict) else None
                if isinstance(worker, str):
                    found.add(worker)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return found
