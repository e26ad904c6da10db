"""Which base model this deployment serves: `BASE_MODEL_ID`, else what an inference worker reports."""

from __future__ import annotations

import logging

from nats.aio.client import Client

from messages import ModelInfo, SwitchboardError, subjects
from services.runtime.call import INFERENCE, call

from .config import AdaptersConfig


async def served_base_model(nc: Client, config: AdaptersConfig, log: logging.Logger) -> str | None:
    """The model id adapters must have been trained on, or None when nobody can say (the check is skipped)."""
    if config.base_model_id:
        return config.base_model_id
    try:
        info = await call(
            nc, subjects.INFERENCE_INFO, b"{}", ModelInfo, timeout_s=config.info_timeout_s, peer=INFERENCE
        )
        return info.model_id
    except SwitchboardError as exc:
        reason = f"no inference worker could say ({exc.code.value}: {exc!s})"
    log.warning("base model unknown: activating without the base-model check", extra={"reason": reason})
    return None


def same_model(trained_on: str, served: str) -> bool:
    """Model ids compare without case, surrounding spaces or a trailing slash (`Org/Model` == `org/model/`)."""

    def norm(model_id: str) -> str:
        return model_id.strip().rstrip("/").casefold()

    return norm(trained_on) == norm(served)
