"""LoRA adapters on this worker: the default one from KV `adapters` key `active`, per-request ones by
name, fetched from Object Store `adapter-files` into ADAPTER_DIR and applied with peft, at most
`max_loaded` kept (least recently used leave)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.kv import KeyValue

from messages import AdapterMeta, ErrorCode, SwitchboardError, decode, subjects
from services.runtime.adapter_files import unpack

from .engine import Engine
from .gate import ModelGate


class Adapters:
    def __init__(
        self,
        js: JetStreamContext,
        engine: Engine,
        gate: ModelGate,
        cache_dir: Path,
        max_loaded: int,
        log: logging.Logger,
    ) -> None:
        self._js = js
        self._engine = engine
        self._gate = gate
        self._cache_dir = cache_dir
        self._max_loaded = max_loaded
        self._log = log
        self._loaded: OrderedDict[str, None] = OrderedDict()  # LRU order, oldest first
        self._in_use: dict[str, int] = {}
        self._loading = asyncio.Lock()
        self.active: str | None = None  # the default adapter, None for the base model
        self._kv: KeyValue | None = None
        self._watch_task: asyncio.Task[None] | None = None

    # -- the registry's state -----------------------------------------------------------------

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            try:
                self._kv = await self._js.key_value(subjects.ADAPTERS_BUCKET)
            except (BucketNotFoundError, NotFoundError) as exc:
                raise SwitchboardError(
                    ErrorCode.ADAPTER_MISSING, "no adapter registry yet (bucket `adapters` does not exist)"
                ) from exc
        return self._kv

    async def meta(self, name: str) -> AdapterMeta:
        """The adapter's registry entry; refuses unknown adapters and ones trained on another base model."""
        try:
            entry = await (await self._bucket()).get(subjects.adapter_key(name))
        except KeyNotFoundError as exc:
            raise SwitchboardError(ErrorCode.ADAPTER_MISSING, f"no adapter named {name!r}") from exc
        if not entry.value:
            raise SwitchboardError(ErrorCode.ADAPTER_MISSING, f"no adapter named {name!r}")
        meta = decode(entry.value, AdapterMeta)
        if meta.base_model != self._engine.source.model_id:
            raise SwitchboardError(
                ErrorCode.ADAPTER_MISSING,
                f"adapter {name!r} was trained on {meta.base_model}, but this worker serves "
                f"{self._engine.source.model_id}",
            )
        return meta

    def start_watching(self) -> None:
        self._watch_task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task

    async def _watch(self) -> None:
        """Follow `active` for as long as the worker runs; wait for the registry's bucket to appear."""
        while True:
            try:
                kv = await self._bucket()
                watcher = await kv.watch(subjects.ACTIVE_KEY)
                try:
                    async for entry in watcher:
                        if entry is None:  # initial values done
                            continue
                        name = (entry.value or b"").decode() or None
                        if entry.operation in ("DEL", "PURGE"):
                            name = None
                        await self._set_active(name)
                finally:
                    with contextlib.suppress(Exception):
                        await watcher.stop()  # type: ignore[no-untyped-call]
            except asyncio.CancelledError:
                raise
            except SwitchboardError:
                await asyncio.sleep(2)  # the registry has not started yet
            except Exception:
                self._log.exception("adapter watch failed; retrying")
                await asyncio.sleep(2)

    async def _set_active(self, name: str | None) -> None:
        if name == self.active:
            return
        if name is not None:
            try:
                await self.meta(name)
                await self.ensure_loaded(name)
            except SwitchboardError as exc:
                self._log.error("cannot activate adapter", extra={"adapter": name, "error": exc.message})
                return
        self.active = name
        self._log.info("active adapter", extra={"adapter": name or "(base model)"})

    # -- loading onto the model ---------------------------------------------------------------

    async def ensure_loaded(self, name: str) -> None:
        """Fetch and apply the adapter unless it is loaded already (marks it most recently used)."""
        async with self._loading:
            if name in self._loaded:
                self._loaded.move_to_end(name)
                return
            folder = await self._fetch(name)
            async with self._gate.write():
                await asyncio.to_thread(self._engine.load_adapter, name, folder)
                self._loaded[name] = None
                await self._evict()
            self._log.info("adapter loaded", extra={"adapter": name, "loaded": len(self._loaded)})

    async def _fetch(self, name: str) -> Path:
        try:
            store = await self._js.object_store(subjects.ADAPTER_FILES_BUCKET)
            result = await store.get(name)
        except (ObjectNotFoundError, NotFoundError, BucketNotFoundError) as exc:
            raise SwitchboardError(ErrorCode.ADAPTER_MISSING, f"the files of adapter {name!r} are missing") from exc
        return await asyncio.to_thread(unpack, result.data or b"", self._cache_dir / name)

    async def _evict(self) -> None:
        """Drop least recently used adapters past the bound (never the active one or one in use)."""
        for name in list(self._loaded):
            if len(self._loaded) <= self._max_loaded:
                return
            if name == self.active or self._in_use.get(name):
                continue
            await asyncio.to_thread(self._engine.unload_adapter, name)
            del self._loaded[name]
            self._log.info("adapter unloaded", extra={"adapter": name})

    def forget_loaded(self) -> None:
        """The model was dropped (GPU lent to training): nothing is applied any more."""
        self._loaded.clear()

    def acquire(self, name: str | None) -> None:
        if name is not None:
            self._in_use[name] = self._in_use.get(name, 0) + 1

    def release(self, name: str | None) -> None:
        if name is not None:
            self._in_use[name] -= 1

    @property
    def loaded(self) -> list[str]:
        return list(self._loaded)
