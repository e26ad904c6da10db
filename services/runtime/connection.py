"""Connecting to NATS: retry the first connect with back-off, reconnect forever afterwards."""

from __future__ import annotations

import asyncio
import logging

from nats.aio.client import Client

import nats
from messages import ErrorCode, SwitchboardError

from .settings import Settings


async def connect(settings: Settings, name: str, log: logging.Logger) -> Client:
    """Connect to `settings.nats_url`, retrying with exponential back-off until `connect_timeout_s`."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", extra={"error": repr(exc)})

    async def on_disconnect() -> None:
        log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.connect_timeout_s
    delay = 0.1
    while True:
        try:
            return await nats.connect(
                servers=[s.strip() for s in settings.nats_url.split(",")],
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
            )
        except Exception as exc:  # nats raises several unrelated types on a failed first connect
            if loop.time() + delay > deadline:
                raise SwitchboardError(
                    ErrorCode.UNAVAILABLE,
                    f"cannot reach NATS at {settings.nats_url} after {settings.connect_timeout_s:.0f}s: {exc}",
                ) from exc
            log.info("nats not reachable yet, retrying", extra={"url": settings.nats_url, "in_s": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
