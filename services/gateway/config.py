"""Gateway settings from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from services.runtime import env_float, env_int, env_str

# the web app (:3000) and its hot-reload dev server (`just ui-dev`, :5173)
DEFAULT_ORIGINS = "http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173,http://127.0.0.1:5173"


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    cors_origins: tuple[str, ...] = tuple(DEFAULT_ORIGINS.split(","))
    request_timeout_s: float = 5.0  # how long to wait for a worker to accept
    token_timeout_s: float = 60.0  # longest silence between two chunks before giving up
    busy_wait_s: float = 60.0  # how long a request waits for a free generation slot on some worker
    search_timeout_s: float = 12.0  # the search service gives up after SEARCH_TIMEOUT_S (8 s) itself

    @classmethod
    def from_env(cls) -> GatewayConfig:
        origins = tuple(o.strip().rstrip("/") for o in env_str("CORS_ORIGINS", DEFAULT_ORIGINS).split(",") if o.strip())
        return cls(
            host=env_str("GATEWAY_HOST", cls.host),
            port=env_int("GATEWAY_PORT", cls.port, minimum=0),
            cors_origins=origins,
            request_timeout_s=env_float("GATEWAY_REQUEST_TIMEOUT_S", cls.request_timeout_s, minimum=0.1),
            token_timeout_s=env_float("GATEWAY_TOKEN_TIMEOUT_S", cls.token_timeout_s, minimum=0.1),
            busy_wait_s=env_float("GATEWAY_BUSY_WAIT_S", cls.busy_wait_s, minimum=0.0),
            search_timeout_s=env_float("GATEWAY_SEARCH_TIMEOUT_S", cls.search_timeout_s, minimum=0.1),
        )
