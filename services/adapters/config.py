"""Registry settings from the environment (on top of the runtime's shared ones)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from messages import ErrorCode, SwitchboardError
from services.runtime import env_float, env_int

MAX_KV_HISTORY = 64  # JetStream's limit for a KV bucket


@dataclass(frozen=True)
class AdaptersConfig:
    base_model_id: str | None = None  # the model this deployment serves; None: ask an inference worker
    kv_history: int = 5  # revisions KV `adapters` keeps per key
    info_timeout_s: float = 3.0  # how long to wait for `svc.inference.info` when BASE_MODEL_ID is unset
    write_retries: int = 10  # attempts at a revision-checked write of `active` before giving up

    @classmethod
    def from_env(cls) -> AdaptersConfig:
        config = cls(
            base_model_id=os.environ.get("BASE_MODEL_ID", "").strip() or None,
            kv_history=env_int("ADAPTERS_KV_HISTORY", cls.kv_history, minimum=1),
            info_timeout_s=env_float("ADAPTERS_INFO_TIMEOUT_S", cls.info_timeout_s, minimum=0.1),
            write_retries=env_int("ADAPTERS_WRITE_RETRIES", cls.write_retries, minimum=1),
        )
        if config.kv_history > MAX_KV_HISTORY:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST, f"ADAPTERS_KV_HISTORY={config.kv_history} must be at most {MAX_KV_HISTORY}"
            )
        return config
