"""The single-GPU handoff: before a QLoRA job, ask the inference service on this host to release the GPU;
afterwards (success, failure, cancel, or a dead predecessor's job) ask it to take the GPU back.

Nobody answering is fine (no inference worker on this host, or one on CPU): training goes on, logged.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError

from messages import GpuHandoff, encode, subjects


def this_host() -> str:
    return socket.gethostname()


async def release_gpu(nc: Client, handoff: GpuHandoff, timeout_s: float, log: logging.Logger) -> bool:
    """Ask for the GPU; True when an inference worker said it released it."""
    return await _ask(nc, subjects.INFERENCE_GPU_RELEASE, handoff, timeout_s, log, "release")


async def reclaim_gpu(nc: Client, handoff: GpuHandoff, timeout_s: float, log: logging.Logger) -> bool:
    """Give the GPU back; True when an inference worker said it took it."""
    return await _ask(nc, subjects.INFERENCE_GPU_RECLAIM, handoff, timeout_s, log, "reclaim")


async def _ask(nc: Client, subject: str, handoff: GpuHandoff, timeout_s: float, log: logging.Logger, verb: str) -> bool:
    extra = {"job_id": handoff.job_id, "host": handoff.host}
    try:
        msg = await nc.request(subject, encode(handoff), timeout=timeout_s)
    except NoRespondersError:
        log.info(f"gpu {verb}: no inference worker answers {subject}; nothing to hand over", extra=extra)
        return False
    except (NatsError, TimeoutError) as exc:
        log.warning(f"gpu {verb}: no answer from {subject}", extra={**extra, "error": repr(exc)})
        return False
    try:
        reply: Any = msgspec.json.decode(msg.data) if msg.data else {}
    except msgspec.DecodeError:
        reply = {}
    if isinstance(reply, dict) and reply.get("type") == "error":
        log.warning(f"gpu {verb} refused", extra={**extra, "why": reply.get("message")})
        return False
    log.info(f"gpu {verb} done", extra=extra)
    return True
