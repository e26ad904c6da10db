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

    async def list(self) -> AdapterList:
        reply = await self._call(subjects.ADAPTERS_LIST, ListAdapters())
        assert isinstance(reply, AdapterList)
        return reply

    async def activate(self, name: str) -> str | None:
        return (await self._call(subjects.ADAPTERS_ACTIVATE, ActivateAdapter(name=name))).active

    async def deactivate(self) -> str | None:
        return (await self._call(subjects.ADAPTERS_DEACTIVATE, DeactivateAdapter())).active

    async def delete(self, name: str) -> str | None:
        return (await self._call(subjects.ADAPTERS_DELETE, DeleteAdapter(name=name))).active
