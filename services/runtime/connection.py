"""Connecting to NATS: keep trying the first connect until a deadline, then reconnect forever."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nats.aio.client import Client

import nats
from messages import ErrorCode, SwitchboardError, subjects

from .settings import Settings


async def connect(settings: Settings, name: str, log: logging.Logger) -> Client:
    """Connect to `settings.nats_url` (comma-separated for a cluster) within `connect_timeout_s`.

    nats-py retries servers itself (every `reconnect_time_wait`); the deadline bounds the first
    connect, and once connected it reconnects without limit.
    """
    connected = False
    last_error: list[str] = []

    async def on_error(exc: Exception) -> None:
        if connected:
            log.warning("nats error", extra={"error": repr(exc)})
            return
        text = str(exc)
        if "authorization violation" in text.lower() and text not in last_error:
            log.error(
                "NATS refused the login; check NATS_USER and NATS_PASSWORD (or NATS_PASSWORD_FILE)",
                extra={"user": settings.nats_user or "(none)", "error": text},
            )
        else:
            log.debug("nats not reachable yet", extra={"error": repr(exc)})
        last_error[:] = [text]

    async def on_disconnect() -> None:
        log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    auth: dict[str, Any] = {}
    if settings.nats_user is not None:
        auth.update(user=settings.nats_user, password=settings.nats_password or "")
        auth["inbox_prefix"] = subjects.inbox_prefix(settings.nats_user)  # only this user may subscribe to it
    try:
        client = await asyncio.wait_for(
            nats.connect(
                servers=[s.strip() for s in settings.nats_url.split(",")],
                **auth,
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
            ),
            timeout=settings.connect_timeout_s,
        )
    except (TimeoutError, OSError, nats.errors.Error) as exc:
        why = f" (last error: {last_error[0]})" if last_error else ""
        raise SwitchboardError(
            ErrorCode.UNAVAILABLE,
            f"cannot reach NATS at {settings.nats_url} within {settings.connect_timeout_s:g}s{why}; "
            "is nats-server running? (`just up` starts it)",
        ) from exc
    connected = True
    return client
