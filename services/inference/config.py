"""Inference settings from the environment (on top of the runtime's shared ones)."""

from __future__ import annotations

from dataclasses import dataclass

from services.runtime import env_float, env_int


@dataclass(frozen=True)
class InferenceConfig:
    max_concurrency: int = 2  # generations at once on this worker; past it requests get `busy`
    tokens_max_age_s: float = 3600.0  # how long stream TOKENS keeps chunks for replay
    tokens_max_bytes: int = 256 * 1024 * 1024
    max_loaded_adapters: int = 4  # LoRA adapters kept applied; the least recently used leave

    @classmethod
    def from_env(cls) -> InferenceConfig:
        return cls(
            max_concurrency=env_int("INFERENCE_MAX_CONCURRENCY", cls.max_concurrency, minimum=1),
            tokens_max_age_s=env_float("TOKENS_MAX_AGE_S", cls.tokens_max_age_s, minimum=1.0),
            tokens_max_bytes=env_int("TOKENS_MAX_BYTES", cls.tokens_max_bytes, minimum=1024 * 1024),
            max_loaded_adapters=env_int("INFERENCE_MAX_ADAPTERS", cls.max_loaded_adapters, minimum=1),
        )
