"""The shared actor runtime: settings, NATS connection, micro registration, logs, clean shutdown."""

from .actor import Actor, ActorContext, main, running, serve
from .call import Peer, call
from .endpoints import Responder, decoding
from .jetstream import ensure_stream, open_key_value, open_object_store, when_ready
from .logs import get_logger, setup_logging
from .models import BUNDLED_MODEL_ID, ModelSource, ensure_bundled_model, resolve_model
from .replies import MICRO_STATUS, answer_ping, reply_error
from .settings import Settings, env_bool, env_float, env_int, env_str

__all__ = [
    "BUNDLED_MODEL_ID",
    "MICRO_STATUS",
    "Actor",
    "ActorContext",
    "ModelSource",
    "Peer",
    "Responder",
    "Settings",
    "answer_ping",
    "call",
    "decoding",
    "ensure_bundled_model",
    "ensure_stream",
    "env_bool",
    "env_float",
    "env_int",
    "env_str",
    "get_logger",
    "main",
    "open_key_value",
    "open_object_store",
    "reply_error",
    "resolve_model",
    "running",
    "serve",
    "setup_logging",
    "when_ready",
]
