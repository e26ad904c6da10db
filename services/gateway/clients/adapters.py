"""Talking to the adapter registry over NATS (`svc.adapters.*`)."""

from __future__ import annotations

from typing import TypeVar

from nats.aio.client import Client

from messages import (
    ActivateAdapter,
    AdapterList,
    AdapterState,
    DeactivateAdapter,
    DeleteAdapter,
    ListAdapters,
    subjects,
)
from services.runtime.call import ADAPTERS, call

NO_REGISTRY = ADAPTERS.absent
T = TypeVar("T")


class AdaptersClient:
    def __init__(self, nc: Client, timeout_s: float) -> None:
        self._nc = nc
        self._timeout_s = timeout_s

    async def _call(self, subject: str, message: object, ok: type[T]) -> T:
        return await call(self._nc, subject, message, ok, timeout_s=self._timeout_s, peer=ADAPTERS)

    async def _state(self, subject: str, message: object) -> AdapterState:
        return await self._call(subject, message, AdapterState)

    async def list(self) -> AdapterList:
        return await self._call(subjects.ADAPTERS_LIST, ListAdapters(), AdapterList)

    async def activate(self, name: str) -> AdapterState:
        """Make `name` the registry's choice; the answer carries the revision of key `active` that holds it.
        Raises SwitchboardError as the registry refuses (NOT_FOUND, INCOMPATIBLE, BUSY, ...)."""
        return await self._state(subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))

    async def deactivate(self) -> AdapterState:
        """Make the base model the registry's choice; as `activate`."""
        return await self._state(subjects.ADAPTERS_DEACTIVATE, DeactivateAdapter())

    async def delete(self, name: str) -> str | None:
        return (await self._call(subjects.ADAPTERS_DELETE, DeleteAdapter(name=name), AdapterList)).active
