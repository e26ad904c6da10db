"""Gateway settings from the environment."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from messages import ErrorCode, SwitchboardError
from messages.inference import MAX_CHOICES, MAX_TOOLS
from services.runtime import env_bool, env_float, env_int, env_str

from .http.keys import ApiKeys
from .limits import MAX_SCHEMA_CHARS, Limits

# the web app (:3000) and its hot-reload dev server (`just ui-dev`, :5173)
DEFAULT_ORIGINS = "http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173,http://127.0.0.1:5173"


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    cors_origins: tuple[str, ...] = tuple(DEFAULT_ORIGINS.split(","))
    request_timeout_s: float = 5.0  # how long to wait for a worker to accept
    token_timeout_s: float = 60.0  # longest silence between two chunks before giving up
    resume_grace_s: float = 30.0  # how long a generation whose websocket dropped runs on, waiting for inferResume
    busy_wait_s: float = 60.0  # how long a request waits for a free generation slot on some worker
    search_timeout_s: float = 12.0  # the search service gives up after SEARCH_TIMEOUT_S (8 s) itself
    keys: ApiKeys = field(default_factory=ApiKeys)  # none: every caller is an admin (loopback only)
    allow_open: bool = False  # listen beyond loopback without keys
    max_subscriptions: int = 16  # operations in flight on one websocket
    max_message_bytes: int = 1024**2  # one websocket message or HTTP body (1 MiB)
    dataset_max_mb: float = 100.0  # the largest dataset upload (DATASET_MAX_MB, as the training service)
    dataset_timeout_s: float = 600.0  # how long checking an upload may take (GATEWAY_DATASET_TIMEOUT_S)
    metrics_open: bool = False  # GET /metrics without a key (exporters are often scraped so)
    metrics_wait_s: float = 0.5  # how long GET /metrics collects the instances' replies
    answers_max_age_s: float = 3600.0  # how long KV `answers` records who asked (TOKENS_MAX_AGE_S, as TOKENS)
    max_choices: int = MAX_CHOICES  # `n`, answers to one prompt (GATEWAY_MAX_CHOICES, at most 8)
    max_tools: int = MAX_TOOLS  # functions offered in one request (GATEWAY_MAX_TOOLS, at most 128)
    max_schema_chars: int = MAX_SCHEMA_CHARS  # one JSON Schema as JSON text (GATEWAY_MAX_SCHEMA_CHARS)

    @property
    def limits(self) -> Limits:
        """What one generation may ask for here."""
        return Limits(self.max_choices, self.max_tools, self.max_schema_chars)

    @property
    def dataset_max_bytes(self) -> int:
        return int(self.dataset_max_mb * 2**20)

    @classmethod
    def from_env(cls) -> GatewayConfig:
        origins = tuple(o.strip().rstrip("/") for o in env_str("CORS_ORIGINS", DEFAULT_ORIGINS).split(",") if o.strip())
        return cls(
            host=env_str("GATEWAY_HOST", cls.host),
            port=env_int("GATEWAY_PORT", cls.port, minimum=0),
            cors_origins=origins,
            request_timeout_s=env_float("GATEWAY_REQUEST_TIMEOUT_S", cls.request_timeout_s, minimum=0.1),
            dataset_max_mb=env_float("DATASET_MAX_MB", cls.dataset_max_mb, minimum=0.001),
            dataset_timeout_s=env_float("GATEWAY_DATASET_TIMEOUT_S", cls.dataset_timeout_s, minimum=1.0),
            token_timeout_s=env_float("GATEWAY_TOKEN_TIMEOUT_S", cls.token_timeout_s, minimum=0.1),
            resume_grace_s=env_float("GATEWAY_RESUME_GRACE_S", cls.resume_grace_s, minimum=0.0),
            busy_wait_s=env_float("GATEWAY_BUSY_WAIT_S", cls.busy_wait_s, minimum=0.0),
            search_timeout_s=env_float("GATEWAY_SEARCH_TIMEOUT_S", cls.search_timeout_s, minimum=0.1),
            keys=ApiKeys.from_env(),
            allow_open=env_bool("GATEWAY_ALLOW_OPEN", False),
            max_subscriptions=env_int("GATEWAY_MAX_SUBSCRIPTIONS", cls.max_subscriptions, minimum=1),
            max_message_bytes=env_int("GATEWAY_MAX_MESSAGE_BYTES", cls.max_message_bytes, minimum=1024),
            metrics_open=env_bool("GATEWAY_METRICS_OPEN", False),
            metrics_wait_s=env_float("GATEWAY_METRICS_WAIT_S", cls.metrics_wait_s, minimum=0.05),
            answers_max_age_s=env_float("TOKENS_MAX_AGE_S", cls.answers_max_age_s, minimum=1.0),
            max_choices=min(env_int("GATEWAY_MAX_CHOICES", cls.max_choices, minimum=1), MAX_CHOICES),
            max_tools=min(env_int("GATEWAY_MAX_TOOLS", cls.max_tools, minimum=0), MAX_TOOLS),
            max_schema_chars=env_int("GATEWAY_MAX_SCHEMA_CHARS", cls.max_schema_chars, minimum=2),
        )

    def check_exposure(self) -> None:
        """Raises SwitchboardError (BAD_REQUEST) when the gateway would listen beyond loopback with no key."""
        if self.keys.enabled or self.allow_open or _is_loopback(self.host):
            return
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            f"GATEWAY_HOST={self.host} would let anyone on the network train, load and delete adapters: set API "
            "keys (GATEWAY_ADMIN_KEYS, GATEWAY_USER_KEYS, or their _FILE variants), or GATEWAY_ALLOW_OPEN=true "
            "if something in front of the gateway already checks who calls",
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
