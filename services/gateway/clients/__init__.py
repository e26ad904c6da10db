"""The gateway's NATS clients, one per service it talks to (inference with its answers' registry and token
relay, search, the adapter registry, training and its datasets), and `Clients`, the set both APIs share."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.client import Client

from .adapters import AdaptersClient
from .datasets import DatasetsClient
from .inference import InferenceClient
from .search import SearchClient
from .training import TrainingClient


@dataclass(frozen=True)
class Clients:
    """The NATS connection and one client per service, shared by every request of both APIs."""

    nc: Client
    inference: InferenceClient
    search: SearchClient
    adapters: AdaptersClient
    training: TrainingClient
    datasets: DatasetsClient


__all__ = ["AdaptersClient", "Clients", "DatasetsClient", "InferenceClient", "SearchClient", "TrainingClient"]
