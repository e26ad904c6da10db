"""Inference settings from the environment (on top of the runtime's shared ones)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from messages import ErrorCode, SwitchboardError
from messages.inference import MAX_CHOICES
from services.runtime import env_float, env_int, env_str

from .model_runner import DTYPES

ENGINES = ("batched", "sequential")
DTYPE_NAMES = ("auto", *DTYPES)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class InferenceConfig:
    """Defaults fit the 2-core development machine; `bench.concurrency` measured them (README, Benchmarks)."""

    engine: str = "batched"  # INFERENCE_ENGINE: "batched" (continuous batching) or "sequential" (one at a time)
    max_concurrency: int = 16  # requests a worker admits (the batch's rows); past it requests get `busy`
    dtype: str = "auto"  # INFERENCE_DTYPE: auto (float32 on CPU, float16 on CUDA), float32, bfloat16, float16
    threads: int = field(default_factory=usable_cpus)  # INFERENCE_THREADS: torch's intra-op threads
    prefill_chunk_tokens: int = 256  # prompt tokens read per engine step, between decode steps
    kv_cache_mb: int = 2048  # what the batch's KV cache may take, reserved per request (prompt + max new tokens)
    tokens_max_age_s: float = 3600.0  # how long stream TOKENS keeps chunks for replay
    tokens_max_bytes: int = 256 * 1024 * 1024
    max_loaded_adapters: int = 4  # LoRA adapters kept applied; the least recently used leave
    warm_up: bool = True  # run a short generation before serving (first answers are not slow)
    max_choices: int = MAX_CHOICES  # INFERENCE_MAX_CHOICES: `n`, answers to one prompt (at most the wire's 8)
    max_constraint_chars: int = 32768  # INFERENCE_MAX_CONSTRAINT_CHARS: a JSON schema's, regex's or choices' text
    # INFERENCE_MAX_SCHEMA_DEPTH: subschema nesting in a schema or a tool's parameters (compile time grows
    # steeply with it: schema_support); OpenAI's own structured outputs allow 10
    max_schema_depth: int = 32

    @classmethod
    def from_env(cls) -> InferenceConfig:
        engine = env_str("INFERENCE_ENGINE", cls.engine).lower()
        if engine not in ENGINES:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"INFERENCE_ENGINE={engine!r}: use {' or '.join(ENGINES)}")
        dtype = env_str("INFERENCE_DTYPE", cls.dtype).lower()
        if dtype not in DTYPE_NAMES:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"INFERENCE_DTYPE={dtype!r}: use {', '.join(DTYPE_NAMES)}")
        return cls(
            engine=engine,
            max_concurrency=env_int("INFERENCE_MAX_CONCURRENCY", cls.max_concurrency, minimum=1),
            dtype=dtype,
            threads=env_int("INFERENCE_THREADS", usable_cpus(), minimum=1),
            prefill_chunk_tokens=env_int("INFERENCE_PREFILL_CHUNK", cls.prefill_chunk_tokens, minimum=16),
            kv_cache_mb=env_int("INFERENCE_KV_CACHE_MB", cls.kv_cache_mb, minimum=16),
            tokens_max_age_s=env_float("TOKENS_MAX_AGE_S", cls.tokens_max_age_s, minimum=1.0),
            tokens_max_bytes=env_int("TOKENS_MAX_BYTES", cls.tokens_max_bytes, minimum=1024 * 1024),
            max_loaded_adapters=env_int("INFERENCE_MAX_ADAPTERS", cls.max_loaded_adapters, minimum=1),
            max_choices=min(MAX_CHOICES, env_int("INFERENCE_MAX_CHOICES", cls.max_choices, minimum=1)),
            max_constraint_chars=env_int("INFERENCE_MAX_CONSTRAINT_CHARS", cls.max_constraint_chars, minimum=64),
            max_schema_depth=env_int("INFERENCE_MAX_SCHEMA_DEPTH", cls.max_schema_depth, minimum=1),
        )
