"""The single-GPU handoff: before a QLoRA job, ask the inference service on this host to release the GPU;
afterwards (success, failure, cancel, or a dead predecessor's job) ask it to take the GPU back.

Nobody answering is fine (no inference worker on this host, or one on CPU): training goes on, logged.
"""

from __future__ import annotations

import logging
import socket

from nats.aio.client import Client

from messages import ErrorCode, GpuHandoff, ModelInfo, SwitchboardError, subjects
from services.runtime.call import INFERENCE, Peer, call

# the inference worker answers a hand-over with its model info (its device and state after it)
_INFERENCE = Peer("the inference worker", INFERENCE.absent)


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
        await call(nc, subject, handoff, ModelInfo, timeout_s=timeout_s, peer=_INFERENCE)
    except SwitchboardError as exc:
        if exc.code is ErrorCode.UNAVAILABLE:
            log.info(f"gpu {verb}: no inference worker answers {subject}; nothing to hand over", extra=extra)
        else:
            log.warning(f"gpu {verb}: no hand-over ({exc.code.value})", extra={**extra, "why": str(exc)})
        return False
    log.info(f"gpu {verb} done", extra=extra)
    return True
