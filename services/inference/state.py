"""The inference actor's started state as one object (FastStream's helpers/state.py): `Started` holds what
exists only once the model is loaded, and describes the worker (`ModelInfo`); before that `NotStarted` stands
in and refuses every use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

import torch

from messages import ErrorCode, ModelInfo, SwitchboardError
from services.runtime import ActorContext

from .adapters import Adapters
from .config import InferenceConfig
from .engine_core import EngineCore
from .gpu_lending import GpuLending
from .intake import Intake
from .metrics import InferenceMetrics
from .model_runner import ModelRunner
from .publisher import Publisher
from .requester_watch import RequesterWatch


@dataclass(frozen=True)
class Started:
    """What `InferenceActor.start` builds, once: the NATS context, the model runner and the engine core on it,
    the worker's figures, its adapters, GPU lending, intake, publisher and requester watch."""

    ctx: ActorContext
    runner: ModelRunner
    core: EngineCore
    metrics: InferenceMetrics
    adapters: Adapters
    lending: GpuLending
    intake: Intake
    publisher: Publisher
    requesters: RequesterWatch

    def model_info(self, config: InferenceConfig, worker_id: str) -> ModelInfo:
        """This worker now, as `svc.inference.info`, `.follow` and the GPU hand-offs answer: its model, device
        and memory, adapters, load and engine core."""
        runner, core, adapters = self.runner, self.core, self.adapters
        occupancy = core.occupancy()
        return ModelInfo(
            model_id=runner.source.model_id,
            device=runner.device,
            dtype=runner.dtype,
            load_in_4bit=runner.load_in_4bit,
            context_length=runner.context_length,
            state="ready" if self.lending.lent_to is None else "released",
            worker_id=worker_id,
            active_adapter=adapters.active,
            active_revision=adapters.active_revision,
            loaded_adapters=adapters.loaded,
            max_concurrency=config.max_concurrency,
            active_generations=len(self.intake.active),
            engine=core.name,
            batch_size=occupancy.decoding,
            waiting=occupancy.waiting,
            kv_cache_mb=round(occupancy.kv_cache_bytes / 2**20, 2),
            kv_cache_limit_mb=float(config.kv_cache_mb) if core.name == "batched" else None,
            threads=torch.get_num_threads(),
            **runner.memory(),
        )


class NotStarted:
    """Stands in for `Started` before `start`: asking it for any part raises `SwitchboardError` UNAVAILABLE
    (as FastStream's `EmptyConnectionState` raises `IncorrectState`), so no part is `Optional` plus asserts."""

    def __getattr__(self, part: str) -> NoReturn:
        if part.startswith("__"):  # Python's own look-ups (copy, pickle, hasattr) get the usual answer
            raise AttributeError(part)
        raise SwitchboardError(ErrorCode.UNAVAILABLE, f"the inference worker has not started (no {part} yet)")
