"""Who asked for each answer (KV `answers`): a request id is reserved by writing its owner, atomically
across every gateway on the NATS cluster, and an answer is read back only by its owner or an admin.

`claim` uses KV `create`, which JetStream refuses when the key exists (the expected last sequence of the
key's subject is 0), so of two gateways that take the same client-chosen id at the same moment exactly one
wins, however the cluster orders them. Entries live as long as stream TOKENS keeps chunks
(`TOKENS_MAX_AGE_S`), so an id cannot be taken again while its answer can still be read back.
"""

from __future__ import annotations

import asyncio
import logging

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from messages import AnswerOwner, ErrorCode, SwitchboardError, decode, encode, subjects
from services.runtime import open_key_value

log = logging.getLogger("switchboard.gateway")
TAKEN = "is already used by another answer; choose a new one"


class AnswerOwners:
    """KV `answers` as this gateway (`instance`) uses it; the bucket is opened on first use (or `open`).

    `max_age_s` is how long an entry lives (the same as TOKENS keeps chunks); `replicas` its copies."""

    def __init__(self, nc: Client, instance: str, max_age_s: float, replicas: int = 1) -> None:
        self._nc = nc
        self._instance = instance
        self._max_age_s = max_age_s
        self._replicas = replicas
        self._kv: KeyValue | None = None
        self._opening = asyncio.Lock()

    async def open(self) -> KeyValue:
        """The bucket, created if missing. Raises SwitchboardError (UNAVAILABLE) when JetStream never answers."""
        async with self._opening:
            if self._kv is None:
                self._kv = await open_key_value(
                    self._nc.jetstream(),
                    subjects.ANSWERS_BUCKET,
                    "who asked for each answer (gateway)",
                    1,
                    log,
                    replicas=self._replicas,
                    ttl_s=self._max_age_s,
                )
            return self._kv

    async def claim(self, request_id: str, owner: str) -> int:
        """Record `owner` as the asker of `request_id`, which must be new; the entry's revision.

        Raises:
            SwitchboardError: CONFLICT (field `request_id`) when another request has it, on any gateway;
                UNAVAILABLE when JetStream does not answer.
        """
        kv = await self.open()
        value = encode(AnswerOwner(owner=owner, gateway=self._instance))
        try:
            return await kv.create(subjects.answer_key(request_id), value)
        except KeyWrongLastSequenceError:
            raise SwitchboardError(ErrorCode.CONFLICT, TAKEN, "request_id") from None
        except (NatsError, TimeoutError) as exc:
            raise _unavailable(exc) from exc

    async def note_worker(self, request_id: str, owner: str, worker_id: str) -> None:
        """Add the worker that accepted `request_id` to its entry, so that a reader on any gateway can ask it
        whether the answer still runs. Best effort: a failure is logged, and readers then wait for chunks."""
        value = encode(AnswerOwner(owner=owner, gateway=self._instance, worker_id=worker_id))
        try:
            await (await self.open()).put(subjects.answer_key(request_id), value)
        except (SwitchboardError, NatsError, TimeoutError) as exc:
            log.warning("answer's worker not recorded", extra={"request_id": request_id, "error": repr(exc)})

    async def release(self, request_id: str, revision: int) -> None:
        """Give `request_id` back (no worker took it: refused, or none running), unless its entry changed
        since `revision`. Best effort: an id not given back stays taken until it expires."""
        try:
            await (await self.open()).delete(subjects.answer_key(request_id), last=revision)
        except (SwitchboardError, NatsError, TimeoutError) as exc:
            log.info("request id not given back", extra={"request_id": request_id, "error": repr(exc)})

    async def owner_of(self, request_id: str) -> AnswerOwner | None:
        """Who asked for `request_id`; None when no gateway recorded it (unknown, expired, or started by a NATS
        client directly). Raises SwitchboardError (UNAVAILABLE) when JetStream does not answer."""
        kv = await self.open()
        try:
            entry = await kv.get(subjects.answer_key(request_id))
        except KeyNotFoundError:
            return None
        except (NatsError, TimeoutError) as exc:
            raise _unavailable(exc) from exc
        return None if entry.value is None else decode(entry.value, AnswerOwner)


def _unavailable(exc: BaseException) -> SwitchboardError:
    return SwitchboardError(
        ErrorCode.UNAVAILABLE, f"KV {subjects.ANSWERS_BUCKET} cannot be read now ({exc.__class__.__name__}); try again"
    )
