"""The registry actor: `svc.adapters.*` list, activate, deactivate, delete and register adapters."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

import msgspec
from nats.aio.client import Client
from prometheus_client import Gauge

from messages import (
    ActivateAdapter,
    AdapterList,
    AdapterMeta,
    AdapterState,
    DeactivateAdapter,
    DeleteAdapter,
    ErrorCode,
    ListAdapters,
    RegisterAdapter,
    SwitchboardError,
    check_adapter_name,
    subjects,
)
from services.runtime import Actor, ActorContext, Responder, Settings, decoding, get_logger

from .base_model import same_model, served_base_model
from .config import AdaptersConfig
from .requests import decode_request
from .store import AdapterStore, NameTaken, RevisionConflict

Q = TypeVar("Q")
R = TypeVar("R")
Reply = AdapterList | AdapterState

# micro error codes (HTTP-like, as `nats micro` tools expect)


class AdaptersActor(Actor):
    name: ClassVar[str] = subjects.ADAPTERS_SERVICE
    description: ClassVar[str] = "The adapter registry: KV `adapters` and Object Store `adapter-files`, single writer"

    def __init__(self, settings: Settings, config: AdaptersConfig | None = None) -> None:
        self.settings = settings
        self.config = config or AdaptersConfig.from_env()
        self._store: AdapterStore | None = None
        self._nc: Client | None = None
        self._log: logging.Logger = get_logger(self.name)
        self._responder = Responder(self._log, "adapter store")

    def metadata(self) -> dict[str, str]:
        return {
            "base_model": self.config.base_model_id or f"asks {subjects.INFERENCE_INFO}",
            "kv_history": str(self.config.kv_history),
        }

    async def start(self, ctx: ActorContext) -> None:
        self._log = ctx.log
        self._nc = ctx.nc
        self._store = await AdapterStore.open(ctx.js, self.config.kv_history, ctx.log, ctx.settings.nats_replicas)
        registered = Gauge(
            "switchboard_adapters_registered", "Adapters in the registry (KV `adapters`)", registry=ctx.metrics.registry
        )

        async def count_adapters() -> None:
            registered.set(len(await self.store.all()))

        ctx.metrics.before_scrape(count_adapters)
        endpoints: list[tuple[str, str, Callable[[bytes], Awaitable[Reply]]]] = [
            ("list", subjects.ADAPTERS_LIST, decoding(decode_request, ListAdapters, self.list_adapters)),
            ("activate", subjects.ADAPTERS_ACTIVATE, decoding(decode_request, ActivateAdapter, self.activate)),
            ("deactivate", subjects.ADAPTERS_DEACTIVATE, decoding(decode_request, DeactivateAdapter, self.deactivate)),
            ("delete", subjects.ADAPTERS_DELETE, decoding(decode_request, DeleteAdapter, self.delete)),
            ("register", subjects.ADAPTERS_REGISTER, decoding(decode_request, RegisterAdapter, self.register)),
        ]
        for name, subject, answer in endpoints:
            await ctx.service.add_endpoint(
                name=name,
                subject=subject,
                queue_group=subjects.ADAPTERS_QUEUE,
                handler=self._responder.handler(name, answer),
            )

    async def stop(self) -> None:
        """Answer the requests in flight; each is a few KV operations."""
        await self._responder.drain(10)

    @property
    def store(self) -> AdapterStore:
        if self._store is None:
            raise SwitchboardError(ErrorCode.UNAVAILABLE, "the adapter registry has not started")
        return self._store

    # -- operations --------------------------------------------------------------------------

    async def list_adapters(self, request: ListAdapters) -> AdapterList:
        adapters = await self.store.all()
        active = await self.store.active()
        return AdapterList(adapters=adapters, active=active.name)

    async def activate(self, request: ActivateAdapter) -> AdapterState:
        name = check_adapter_name(request.name)
        meta = await self.store.get(name)
        if meta is None:
            raise _no_adapter(name)
        await self._check_base_model(meta)
        revision = await self._swap_active(name)
        # a delete may have removed it meanwhile: delete clears `active` after removing the entry, and we
        # look for the entry after writing `active`, so one of the two sees the other
        if not await self.store.exists(name):
            await self._swap_active(None, only_if=name)
            raise _no_adapter(name)
        self._log.info(
            "adapter activated", extra={"adapter": name, "revision": revision, "request_id": request.request_id}
        )
        return AdapterState(active=name, revision=revision)

    async def deactivate(self, request: DeactivateAdapter) -> AdapterState:
        revision = await self._swap_active(None)
        self._log.info("base model active", extra={"revision": revision, "request_id": request.request_id})
        return AdapterState(active=None, revision=revision)

    async def delete(self, request: DeleteAdapter) -> AdapterList:
        name = check_adapter_name(request.name)
        if not await self.store.exists(name):
            raise _no_adapter(name)
        await self.store.remove(name)
        await self._swap_active(None, only_if=name)
        had_files = await self.store.delete_object(name)
        self._log.info("adapter deleted", extra={"adapter": name, "files": had_files, "request_id": request.request_id})
        return await self.list_adapters(ListAdapters())

    async def register(self, request: RegisterAdapter) -> AdapterList:
        meta = request.meta
        name = check_adapter_name(meta.name, "meta.name")
        if await self.store.exists(name):
            raise _name_taken(name)
        size = await self.store.object_size(name)
        if size is None:
            raise SwitchboardError(
                ErrorCode.NOT_FOUND,
                f"adapter {name!r} has no files: upload the adapter's files to the object store first "
                f"(object {name!r} in bucket {subjects.ADAPTER_FILES_BUCKET!r}), then register it",
            )
        if meta.size_bytes == 0:
            meta = msgspec.structs.replace(meta, size_bytes=size)
        try:
            await self.store.create(meta)
        except NameTaken as exc:
            raise _name_taken(name) from exc
        self._log.info(
            "adapter registered",
            extra={"adapter": name, "base_model": meta.base_model, "request_id": request.request_id},
        )
        return await self.list_adapters(ListAdapters())

    # -- helpers -----------------------------------------------------------------------------

    async def _check_base_model(self, meta: AdapterMeta) -> None:
        assert self._nc is not None
        served = await served_base_model(self._nc, self.config, self._log)
        if served is not None and not same_model(meta.base_model, served):
            raise SwitchboardError(
                ErrorCode.INCOMPATIBLE,
                f"adapter {meta.name!r} was trained on {meta.base_model!r}, but this deployment serves "
                f"{served!r}; an adapter only works on the base model it was trained on",
            )

    async def _swap_active(self, target: str | None, *, only_if: str | None = None) -> int:
        """Set `active` to `target` with a revision-checked write, re-reading and retrying on a conflict.

        With `only_if`, change it only while it names that adapter (deleting the active adapter). Returns the
        revision of `active` that holds the outcome: the one written, or the one read when nothing needed
        writing. Raises SwitchboardError BUSY when every retry met a conflict.
        """
        for attempt in range(self.config.write_retries):
            current = await self.store.active()
            if current.name == target or (only_if is not None and current.name != only_if):
                return current.revision
            try:
                return await self.store.write_active(target, current.revision)
            except RevisionConflict:
                await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # let the other writer finish
        raise SwitchboardError(ErrorCode.BUSY, "the active adapter kept changing under concurrent requests; try again")

    # -- endpoint plumbing -------------------------------------------------------------------


def _no_adapter(name: str) -> SwitchboardError:
    return SwitchboardError(ErrorCode.NOT_FOUND, f"names no saved adapter ({name!r})", "name")


def _name_taken(name: str) -> SwitchboardError:
    return SwitchboardError(
        ErrorCode.CONFLICT,
        f"is taken: an adapter named {name!r} exists already; delete it first or choose another name",
        "meta.name",
    )
