"""The inference actor: loads a causal LM and streams each request's tokens over NATS."""

from .config import InferenceConfig
from .engine import Engine
from .service import InferenceActor

__all__ = ["Engine", "InferenceActor", "InferenceConfig"]
