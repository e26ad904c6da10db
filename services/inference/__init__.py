"""The inference actor: loads a causal LM and streams each request's tokens over NATS."""

from .config import InferenceConfig
from .model_runner import ModelRunner
from .service import InferenceActor

__all__ = ["InferenceActor", "InferenceConfig", "ModelRunner"]
