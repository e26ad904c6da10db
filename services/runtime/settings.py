"""Settings every actor reads from the environment, plus helpers for service-specific ones."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from messages import ErrorCode, SwitchboardError

T = TypeVar("T", int, float)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SwitchboardError(ErrorCode.BAD_REQUEST, f"{name}={value!r} is not a boolean (use true or false)")


def _env_number(name: str, default: T, parse: Callable[[str], T], minimum: T, kind: str) -> T:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        parsed = parse(value)
    except ValueError as exc:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"{name}={value!r} is not {kind}") from exc
    if not parsed >= minimum:  # also rejects NaN
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"{name}={parsed} must be at least {minimum}")
    return parsed


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    return _env_number(name, default, int, minimum, "an integer")


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    return _env_number(name, default, float, minimum, "a number")


def _secret(name: str) -> str | None:
    """`name`'s value, or the contents of the file `name_FILE` names (containers mount secrets as files)."""
    path = os.environ.get(f"{name}_FILE", "").strip()
    if path:
        try:
            return Path(path).expanduser().read_text().strip() or None
        except OSError as exc:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"{name}_FILE={path}: cannot read it ({exc})") from exc
    return os.environ.get(name) or None


def _default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


MAX_REPLICAS = 5  # JetStream keeps at most 5 copies of a stream (NATS docs, "Streams": Replicas)


def _replicas() -> int:
    replicas = env_int("NATS_REPLICAS", 1, minimum=1)
    if replicas > MAX_REPLICAS:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST, f"NATS_REPLICAS={replicas} must be at most {MAX_REPLICAS} (JetStream's limit)"
        )
    return replicas


@dataclass(frozen=True)
class Settings:
    """The seed's variables (`MODEL_ID`, `LOAD_IN_4BIT`, `HF_TOKEN`, `ADAPTER_DIR`), `NATS_URL` (comma-separated
    for a cluster) and `NATS_REPLICAS`."""

    nats_url: str = "nats://127.0.0.1:4222"
    model_id: str | None = None  # None: the bundled SmolLM2-135M-Instruct
    load_in_4bit: bool = False
    hf_token: str | None = None
    adapter_dir: Path = Path.home() / ".cache" / "switchboard" / "adapters"
    model_cache_dir: Path = Path.home() / ".cache" / "switchboard" / "models"
    log_level: str = "INFO"
    log_format: str = "text"  # "text" or "json"
    connect_timeout_s: float = 30.0
    worker_id: str = field(default_factory=_default_worker_id)
    nats_user: str | None = None  # NATS_USER: this service's NATS user (`just up` with NATS_AUTH=on sets it)
    nats_password: str | None = field(default=None, repr=False)  # NATS_PASSWORD, or read from NATS_PASSWORD_FILE
    nats_replicas: int = 1  # NATS_REPLICAS: copies of every stream, KV bucket and object store (1..5, NATS's limit)

    @classmethod
    def from_env(cls) -> Settings:
        model_id = os.environ.get("MODEL_ID", "").strip() or None
        return cls(
            nats_url=env_str("NATS_URL", cls.nats_url),
            model_id=model_id,
            load_in_4bit=env_bool("LOAD_IN_4BIT", False),
            hf_token=os.environ.get("HF_TOKEN") or None,
            adapter_dir=Path(env_str("ADAPTER_DIR", str(cls.adapter_dir))).expanduser(),
            model_cache_dir=Path(env_str("MODEL_CACHE_DIR", str(cls.model_cache_dir))).expanduser(),
            log_level=env_str("LOG_LEVEL", "INFO").upper(),
            log_format=env_str("LOG_FORMAT", "text").lower(),
            connect_timeout_s=env_float("NATS_CONNECT_TIMEOUT", 30.0, minimum=0.1),
            worker_id=env_str("WORKER_ID", _default_worker_id()),
            nats_user=os.environ.get("NATS_USER", "").strip() or None,
            nats_password=_secret("NATS_PASSWORD"),
            nats_replicas=_replicas(),
        )
