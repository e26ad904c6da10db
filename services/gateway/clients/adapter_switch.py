"""Switching the default adapter (`loadAdapter`, `useBaseModel`): the registry's write, then every inference
worker's word that it applied it (`svc.inference.follow`), then whether the choice still holds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from nats.aio.client import Client

from messages import AdapterState, ErrorCode, FollowActive, ModelInfo, SwitchboardError, decode, encode, subjects

from .adapters import AdaptersClient

ROLL_CALL_S = 0.1  # a running worker answers `svc.inference.follow` from its event loop within milliseconds
FOLLOW_TIMEOUT_S = 15.0  # applying an adapter is a fetch and a peft load: seconds at most


class Superseded(SwitchboardError):
    """Another switch (`loadAdapter`, `useBaseModel`, deleting the active adapter) changed the registry's
    choice after this one was written and before it returned; `active` is the choice now (None: base model)."""

    def __init__(self, active: str | None) -> None:
        super().__init__(
            ErrorCode.CONFLICT,
            f"another switch superseded this one: {active or 'the base model'} is active now",
        )
        self.active = active


async def switch(nc: Client, adapters: AdaptersClient, change: Callable[[], Awaitable[AdapterState]]) -> str | None:
    """Make the registry's choice with `change`, wait until every inference worker applied it, and return the
    adapter active now (None: the base model).

    Raises `Superseded` (CONFLICT) when another switch replaced the choice meanwhile, SwitchboardError TIMEOUT
    when a worker did not apply it within `FOLLOW_TIMEOUT_S`, and whatever the registry refuses with.
    """
    state = await change()
    await workers_follow(nc, state)
    now = (await adapters.list()).active
    if now != state.active:
        raise Superseded(now)
    return now


async def workers_follow(
    nc: Client, state: AdapterState, timeout_s: float = FOLLOW_TIMEOUT_S, roll_call_s: float = ROLL_CALL_S
) -> None:
    """Wait until every inference worker that answers `svc.inference.follow` within `roll_call_s` reports
    revision `state.revision` of KV `adapters` key `active` applied, or a later one (which a racing switch
    wrote: waiting for the registry's revision, never for a name, is what lets racing switches return).

    No worker answering is fine: the choice is stored, and a worker applies it when it starts.
    Raises SwitchboardError TIMEOUT, naming the workers still behind, after `timeout_s`.
    """
    revision = state.revision
    applied: dict[str, int] = {}  # worker id -> the revision it reports applied
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    try:
        await nc.publish(subjects.INFERENCE_FOLLOW, encode(FollowActive(revision=revision)), reply=inbox)
        loop = asyncio.get_running_loop()
        roll_call_ends = loop.time() + roll_call_s
        deadline = loop.time() + timeout_s
        while True:
            now = loop.time()
            if now >= roll_call_ends and all(seen >= revision for seen in applied.values()):
                return
            if now >= deadline:
                behind = sorted(worker for worker, seen in applied.items() if seen < revision)
                raise SwitchboardError(
                    ErrorCode.TIMEOUT,
                    f"the registry now names {state.active or 'the base model'}, but inference worker(s) "
                    f"{', '.join(behind)} have not applied it within {timeout_s:g}s; see the inference logs",
                )
            try:
                msg = await sub.next_msg(
                    timeout=max((roll_call_ends if now < roll_call_ends else deadline) - now, 0.001)
                )
            except TimeoutError:
                continue
            with contextlib.suppress(SwitchboardError):  # not a worker's answer: ignored
                info = decode(msg.data, ModelInfo)
                applied[info.worker_id] = max(applied.get(info.worker_id, 0), info.active_revision)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
