"""LoRA adapters on this worker: the default one from KV `adapters` key `active`, per-request ones by name,
fetched from Object Store `adapter-files` into ADAPTER_DIR and applied with peft between decode steps.

Adapters are versioned by the KV revision of their registry entry `adapter.<name>`: each version is applied
under its own peft name (`lora-<n>`), so a request keeps the version it started with while a new one under
the same name loads beside it. A version that was deleted or replaced leaves once no request uses it; at
most `max_loaded` current versions stay applied (least recently used leave).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import shutil
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.kv import KeyValue

from messages import AdapterMeta, ErrorCode, SwitchboardError, decode, subjects
from services.runtime.adapter_files import unpack

from .model_runner import ModelRunner

BetweenSteps = Callable[[Callable[[], Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Version:
    """One applied version of an adapter: its peft name, the KV revision it came from, and its folder."""

    key: str
    revision: int
    folder: Path


class Adapters:
    def __init__(
        self,
        js: JetStreamContext,
        runner: ModelRunner,
        between_steps: BetweenSteps,
        cache_dir: Path,
        max_loaded: int,
        log: logging.Logger,
        on_load: Callable[[str], None] = lambda outcome: None,
    ) -> None:
        self._js = js
        self._runner = runner
        self._between_steps = between_steps
        self._cache_dir = cache_dir
        self._max_loaded = max_loaded
        self._log = log
        self._on_load = on_load  # told each load's outcome: "ok" or the error code
        self._loaded: OrderedDict[str, Version] = OrderedDict()  # current versions by name, LRU order
        self._retired: list[Version] = []  # deleted or replaced, unloaded once unused
        self._in_use: dict[str, int] = {}  # by peft key
        self._keys = itertools.count(1)
        self._loading = asyncio.Lock()
        self.active: str | None = None  # the default adapter, None for the base model
        self.active_revision = 0  # the revision of key `active` that `active` reflects (0: not read yet)
        self._followed = asyncio.Condition()  # notified when `active_revision` moves
        self._kv: KeyValue | None = None
        self._watch_task: asyncio.Task[None] | None = None

    # -- the registry's state -----------------------------------------------------------------

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            try:
                self._kv = await self._js.key_value(subjects.ADAPTERS_BUCKET)
            except (BucketNotFoundError, NotFoundError) as exc:
                raise SwitchboardError(
                    ErrorCode.ADAPTER_MISSING, "names no saved adapter (no adapter is registered yet)", "adapter"
                ) from exc
        return self._kv

    async def resolve(self, name: str) -> int:
        """The revision of the adapter's registry entry (its version). Raises SwitchboardError ADAPTER_MISSING
        (field `adapter`) for an unknown adapter or one trained on another base model."""
        try:
            entry = await (await self._bucket()).get(subjects.adapter_key(name))
        except KeyNotFoundError as exc:
            raise SwitchboardError(ErrorCode.ADAPTER_MISSING, f"names no saved adapter ({name!r})", "adapter") from exc
        if not entry.value:
            raise SwitchboardError(ErrorCode.ADAPTER_MISSING, f"names no saved adapter ({name!r})", "adapter")
        meta = decode(entry.value, AdapterMeta)
        if meta.base_model != self._runner.source.model_id:
            raise SwitchboardError(
                ErrorCode.ADAPTER_MISSING,
                f"names adapter {name!r}, trained on {meta.base_model}, but this worker serves "
                f"{self._runner.source.model_id}",
                "adapter",
            )
        return int(entry.revision or 0)

    def start_watching(self) -> None:
        self._watch_task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task

    async def _watch(self) -> None:
        """Follow the registry for as long as the worker runs: `active`, and every adapter's entry (a delete or
        a new version retires what is loaded). Waits for the registry's bucket to appear."""
        while True:
            try:
                kv = await self._bucket()
                watcher = await kv.watchall()
                try:
                    async for entry in watcher:
                        if entry is None:  # initial values done
                            continue
                        gone = entry.operation in ("DEL", "PURGE")
                        if entry.key == subjects.ACTIVE_KEY:
                            name = None if gone else (entry.value or b"").decode() or None
                            await self._set_active(name, int(entry.revision or 0))
                        elif entry.key.startswith(subjects.adapter_key("")):
                            await self._on_entry(entry.key.removeprefix(subjects.adapter_key("")), entry, gone)
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

    async def _on_entry(self, name: str, entry: Any, gone: bool) -> None:
        if gone and name == self.active:  # the registry makes the base model active too; do not wait for it
            await self._set_active(None)
        current = self._loaded.get(name)
        if current is None or (not gone and current.revision == entry.revision):
            return
        async with self._loading:
            if self._loaded.get(name) is current:
                del self._loaded[name]
                self._retired.append(current)
        self._log.info(
            "adapter version retired",
            extra={"adapter": name, "revision": current.revision, "why": "deleted" if gone else "replaced"},
        )
        await self._sweep()
        if not gone and name == self.active:  # keep serving the default adapter without a first-request wait
            with contextlib.suppress(SwitchboardError):
                await self.apply(name, int(entry.revision or 0))

    async def _set_active(self, name: str | None, revision: int | None = None) -> None:
        """Make `name` the default adapter once it is applied. With `revision` (that of the `active` entry
        naming it), record that this worker follows the registry up to it; an adapter that cannot be applied
        leaves both as they were (the error is logged), so whoever waits for the revision waits on."""
        if name != self.active:
            if name is not None:
                try:
                    await self.apply(name)
                except SwitchboardError as exc:
                    self._log.error("cannot activate adapter", extra={"adapter": name, "error": str(exc)})
                    return
            self.active = name
            self._log.info("active adapter", extra={"adapter": name or "(base model)", "revision": revision})
        if revision is not None:
            async with self._followed:
                self.active_revision = max(self.active_revision, revision)
                self._followed.notify_all()

    async def followed(self, revision: int, timeout_s: float) -> bool:
        """Wait until this worker has applied revision `revision` of key `active` or a later one; False when
        `timeout_s` seconds passed first."""
        async with self._followed:
            try:
                await asyncio.wait_for(self._followed.wait_for(lambda: self.active_revision >= revision), timeout_s)
            except TimeoutError:
                return False
        return True

    # -- applying versions to the model -------------------------------------------------------

    async def acquire(self, name: str, revision: int) -> str:
        """Make sure version `revision` of `name` is applied (fetching its files if needed) and count one user
        of it; returns its peft name for `Job.adapter_key`. Pair with `release`."""
        async with self._loading:
            current = self._loaded.get(name)
            if current is None or current.revision != revision:
                try:
                    folder = await self._fetch(name, revision)
                    version = Version(key=f"lora-{next(self._keys)}", revision=revision, folder=folder)
                    await self._between_steps(lambda: self._runner.load_adapter(version.key, folder))
                except SwitchboardError as exc:
                    self._on_load(exc.code.value)
                    raise
                except Exception:
                    self._on_load(ErrorCode.INTERNAL.value)
                    raise
                self._on_load("ok")
                if current is not None:
                    del self._loaded[name]
                    self._retired.append(current)
                self._loaded[name] = current = version
                self._log.info("adapter loaded", extra={"adapter": name, "revision": revision, "key": version.key})
            self._loaded.move_to_end(name)
            self._in_use[current.key] = self._in_use.get(current.key, 0) + 1
            await self._evict()
        await self._sweep()
        return current.key

    async def apply(self, name: str, revision: int | None = None) -> None:
        """Apply version `revision` of `name` (default: the registry's current one) without using it, so the
        next request finds it loaded. Raises SwitchboardError ADAPTER_MISSING like `resolve` and `acquire`."""
        await self.release(await self.acquire(name, revision if revision is not None else await self.resolve(name)))

    async def release(self, key: str) -> None:
        self._in_use[key] = self._in_use.get(key, 1) - 1
        if not self._in_use[key]:
            del self._in_use[key]
            await self._sweep()

    async def _fetch(self, name: str, revision: int) -> Path:
        try:
            store = await self._js.object_store(subjects.ADAPTER_FILES_BUCKET)
            result = await store.get(name)
        except (ObjectNotFoundError, NotFoundError, BucketNotFoundError) as exc:
            raise SwitchboardError(ErrorCode.ADAPTER_MISSING, f"the files of adapter {name!r} are missing") from exc
        except (NatsError, TimeoutError) as exc:  # NATS unreachable or refusing (a missing permission, say)
            raise SwitchboardError(
                ErrorCode.UNAVAILABLE,
                f"could not fetch the files of adapter {name!r} from the Object Store ({type(exc).__name__}: {exc})",
            ) from exc
        return await asyncio.to_thread(unpack, result.data or b"", self._cache_dir / name / f"r{revision}")

    async def _evict(self) -> None:
        """Retire least recently used versions past the bound (never the active adapter's, never one in use)."""
        for name, version in list(self._loaded.items()):
            if len(self._loaded) <= self._max_loaded:
                return
            if name == self.active or self._in_use.get(version.key):
                continue
            del self._loaded[name]
            self._retired.append(version)

    async def _sweep(self) -> None:
        """Unload retired versions that no request uses any more, and delete their folders."""
        for version in [v for v in self._retired if not self._in_use.get(v.key)]:
            if version not in self._retired:  # another sweep took it meanwhile
                continue
            self._retired.remove(version)
            await self._between_steps(functools.partial(self._runner.unload_adapter, version.key))
            await asyncio.to_thread(shutil.rmtree, version.folder, True)
            self._log.info("adapter unloaded", extra={"key": version.key, "revision": version.revision})

    def forget_loaded(self) -> None:
        """The model was dropped (GPU lent to training): nothing is applied any more."""
        self._loaded.clear()
        self._retired.clear()

    @property
    def loaded(self) -> list[str]:
        return list(self._loaded)
