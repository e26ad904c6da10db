"""The adapter registry actor: the single writer of KV `adapters` and Object Store `adapter-files`."""

from .base_model import same_model, served_base_model
from .config import AdaptersConfig
from .service import AdaptersActor
from .store import Active, AdapterStore, NameTaken, RevisionConflict

__all__ = [
    "Active",
    "AdapterStore",
    "AdaptersActor",
    "AdaptersConfig",
    "NameTaken",
    "RevisionConflict",
    "same_model",
    "served_base_model",
]
