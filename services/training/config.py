"""Training settings from the environment (on top of the runtime's shared ones)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from messages import ErrorCode, SwitchboardError
from services.runtime import env_float, env_int, env_str

from .render import Overlong

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainingConfig:
    max_length: int = 256  # tokens per example; longer ones are cut (TRAIN_MAX_LENGTH)
    batch_size: int = 4  # examples per optimizer step on CPU (CUDA: 1, with 8 accumulated, as in the original spec)
    device: str = "auto"  # auto (CUDA when present), cpu or cuda
    seed: int = 42  # adapter init and data order
    heartbeat_s: float = 5.0  # how often a running job refreshes its heartbeat and tells JetStream it lives
    ack_wait_s: float = 60.0  # JetStream redelivers a job message unacked (and not `in_progress`) this long
    fetch_timeout_s: float = 5.0  # one idle pull request's length
    kv_interval_s: float = 1.0  # at most one step write to KV `training` per interval (state changes always)
    stop_grace_s: float = 20.0  # on shutdown, how long a cancelled job may take to stop
    gpu_timeout_s: float = 30.0  # how long the inference service may take to release or reclaim the GPU
    register_timeout_s: float = 30.0  # how long the adapter registry may take to answer
    max_queued: int = 1000  # jobs stream TRAIN_JOBS holds at most; past it submitting is refused
    kv_history: int = 3  # revisions KV `training` keeps per job
    dataset_dir: Path = Path(".data/datasets")  # local dataset files come only from here (DATASET_DIR)
    hub_endpoint: str | None = None  # where hub dataset ids are checked; None: huggingface_hub's (HF_ENDPOINT)
    overlong: Overlong = Overlong.TRUNCATE  # rows over max_length: truncate or drop (TRAIN_OVERLONG)
    dataset_max_mb: float = 100.0  # the largest dataset file accepted (DATASET_MAX_MB)
    checkpoint_every_s: float = 120.0  # a job without checkpointEverySteps saves one about this often

    @property
    def stale_after_s(self) -> float:
        """A running job whose heartbeat is older than this has lost its worker."""
        return 3 * self.heartbeat_s

    @property
    def dataset_max_bytes(self) -> int:
        return int(self.dataset_max_mb * 2**20)

    @classmethod
    def from_env(cls) -> TrainingConfig:
        config = cls(
            max_length=env_int("TRAIN_MAX_LENGTH", cls.max_length, minimum=16),
            batch_size=env_int("TRAIN_BATCH_SIZE", cls.batch_size, minimum=1),
            device=env_str("TRAIN_DEVICE", cls.device).lower(),
            seed=env_int("TRAIN_SEED", cls.seed),
            heartbeat_s=env_float("TRAIN_HEARTBEAT_S", cls.heartbeat_s, minimum=0.1),
            ack_wait_s=env_float("TRAIN_ACK_WAIT_S", cls.ack_wait_s, minimum=1.0),
            fetch_timeout_s=env_float("TRAIN_FETCH_TIMEOUT_S", cls.fetch_timeout_s, minimum=0.1),
            kv_interval_s=env_float("TRAIN_KV_INTERVAL_S", cls.kv_interval_s),
            stop_grace_s=env_float("TRAIN_STOP_GRACE_S", cls.stop_grace_s),
            gpu_timeout_s=env_float("TRAIN_GPU_TIMEOUT_S", cls.gpu_timeout_s, minimum=0.1),
            register_timeout_s=env_float("TRAIN_REGISTER_TIMEOUT_S", cls.register_timeout_s, minimum=0.1),
            max_queued=env_int("TRAIN_MAX_QUEUED", cls.max_queued, minimum=1),
            kv_history=env_int("TRAINING_KV_HISTORY", cls.kv_history, minimum=1),
            dataset_dir=Path(env_str("DATASET_DIR", str(cls.dataset_dir))).expanduser(),
            overlong=_overlong(env_str("TRAIN_OVERLONG", cls.overlong.value)),
            dataset_max_mb=env_float("DATASET_MAX_MB", cls.dataset_max_mb, minimum=0.001),
            checkpoint_every_s=env_float("TRAIN_CHECKPOINT_EVERY_S", cls.checkpoint_every_s, minimum=1.0),
        )
        if config.device not in DEVICES:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST, f"TRAIN_DEVICE={config.device!r} must be one of {', '.join(DEVICES)}"
            )
        if config.kv_history > 64:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"TRAINING_KV_HISTORY={config.kv_history} must be at most 64")
        if config.ack_wait_s <= 2 * config.heartbeat_s:
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"TRAIN_ACK_WAIT_S={config.ack_wait_s:g} must be more than twice "
                f"TRAIN_HEARTBEAT_S={config.heartbeat_s:g}",
            )
        return config


def _overlong(value: str) -> Overlong:
    try:
        return Overlong(value.strip().lower())
    except ValueError:
        choices = ", ".join(o.value for o in Overlong)
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"TRAIN_OVERLONG={value!r} must be one of {choices}") from None
