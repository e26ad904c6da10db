"""Talking to the adapter registry over NATS (`svc.adapters.*`)."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client

from messages import (
    ActivateAdapter,
    AdapterList,
    AdapterReply,
    AdapterState,
    DeactivateAdapter,
    DeleteAdapter,
    ListAdapters,
    SwitchboardError,
    decode,
    encode,
    subjects,
)

from .nats_request import request

NO_REGISTRY = "the adapter registry is not running; start it with `python -m services.adapters` (`just up` does)"


class AdaptersClient:
    def __init__(self, nc: Client, timeout_s: float) -> None:
        self._nc = nc
        self._timeout_s = timeout_s

    async def _call(self, subject: str, message: Any) -> AdapterList | AdapterState:
        data = await request(
            self._nc,
            subject,
            encode(message),
            timeout_s=self._timeout_s,
            absent=NO_REGISTRY,
            what="the adapter registry",
        )
        reply: AdapterReply = decode(data, AdapterReply)  # type: ignore[arg-type]
        if isinstance(reply, AdapterList | AdapterState):
            return reply
        raise SwitchboardError.from_message(reply)

    async def _state(self, subject: str, message: Any) -> AdapterState:
        reply = await self._call(subject, message)
        assert isinstance(reply, AdapterState)
        return reply

    async def list(self) -> AdapterList:
        reply = await self._call(subjects.ADAPTERS_LIST, ListAdapters())
        assert isinstance(reply, AdapterList)
        return reply

    async def activate(self, name: str) -> AdapterState:
        """Make `name` the registry's choice; the answer carries the revision of key `active` that holds it.
        Raises SwitchboardError as the registry refuses (NOT_FOUND, INCOMPATIBLE, BUSY, ...)."""
        return await self._state(subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))

    async def deactivate(self) -> AdapterState:
        """Make the base model the registry's choice; as `activate`."""
        return await self._state(subjects.ADAPTERS_DEACTIVATE, DeactivateAdapter())

    async def delete(self, name: str) -> str | None:
        return (await self._call(subjects.ADAPTERS_DELETE, DeleteAdapter(name=name))).active
