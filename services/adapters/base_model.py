"""Which base model this deployment serves: `BASE_MODEL_ID`, else what an inference worker reports."""

from __future__ import annotations

import logging

from nats.aio.client import Client
from nats.errors import Error as NatsError

from messages import ModelInfo, SwitchboardError, decode, subjects

from .config import AdaptersConfig


async def served_base_model(nc: Client, config: AdaptersConfig, log: logging.Logger) -> str | None:
    """The model id adapters must have been trained on, or None when nobody can say (the check is skipped)."""
    if config.base_model_id:
        return config.base_model_id
    try:
        msg = await nc.request(subjects.INFERENCE_INFO, b"{}", timeout=config.info_timeout_s)
        return decode(msg.data, ModelInfo).model_id
    except (NatsError, TimeoutError) as exc:
        reason = f"no inference worker answered {subjects.INFERENCE_INFO} ({type(exc).__name__})"
    except SwitchboardError as exc:
        reason = f"the inference worker's answer was not model info ({exc!s})"
    log.warning("base model unknown: activating without the base-model check", extra={"reason": reason})
    return None


def same_model(trained_on: str, served: str) -> bool:
    """Model ids compare without case, surrounding spaces or a trailing slash (`Org/Model` == `org/model/`)."""

    def norm(model_id: str) -> str:
        return model_id.strip().rstrip("/").casefold()

    return norm(trained_on) == norm(served)
