"""The answers this gateway has open, and the ids it reserves for new ones: the registry `stream` and `resume`
share (which ids are open here, which wait to be resumed after their client dropped, which reservation each
stream takes up), and the cancel sent when an answer's client is gone for good.

Reservations are KV `answers`' (`answer_owners.py`): an id is taken there atomically before any worker is
asked, so it holds across gateways; this registry adds what only this gateway knows (its open streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError

from messages import Cancel, ErrorCode, SwitchboardError, encode, subjects

from .answer_owners import TAKEN, AnswerOwners

REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # one NATS subject token: no `.`, `*` or `>`
NOT_KEPT = (
    "names no answer the server keeps: the id is unknown, or the answer is older than stream TOKENS keeps them "
    "(TOKENS_MAX_AGE_S)"
)

log = logging.getLogger("switchboard.gateway")


@dataclass
class _Detached:
    """A generation whose websocket dropped: it runs on until `expiry` fires, unless `inferResume` claims it."""

    worker_id: str | None
    expiry: asyncio.TimerHandle


class Answers:
    """This gateway's answers: `open` (streamed here, or detached and waiting), `detached` (request id -> its
    generation, waiting to be resumed), and the reservations not yet streamed (request id -> owner and KV
    revision). `resume_grace_s` is how long a detached answer waits for `inferResume`."""

    def __init__(self, nc: Client, owners: AnswerOwners, resume_grace_s: float) -> None:
        self._nc = nc
        self.owners = owners
        self._grace_s = resume_grace_s
        self.open: set[str] = set()
        self.detached: dict[str, _Detached] = {}
        self._background: set[asyncio.Task[None]] = set()  # cancels after a grace, workers noted
        self._claims: dict[str, tuple[str, int]] = {}

    def take_claim(self, request_id: str) -> tuple[str, int] | None:
        """The reservation `reserve` made for `request_id` (owner, KV revision), now taken up by its stream."""
        return self._claims.pop(request_id, None)

    async def reserve(self, owner: str, request_id: str | None = None) -> str:
        """The id of a new answer, recorded as `owner`'s (a key id; "" without keys) in KV `answers`: the
        caller's `request_id`, checked and taken atomically across every gateway, else a random one.

        The id is taken before anything is asked of a worker, so a request refused here never reaches one,
        and never cancels the generation that has the id. Ids given to workers straight over NATS (not
        through a gateway) are not in KV `answers`: those are found in stream TOKENS, which is checked too,
        but not atomically (two such clients racing a gateway for one id are not stopped here; the worker
        refuses an id it already runs).

        Raises:
            SwitchboardError: BAD_REQUEST for an id that cannot be one (field `request_id`); CONFLICT for one
                another answer has, here, on another gateway, or kept in TOKENS; UNAVAILABLE when JetStream
                does not answer (for a caller's id only: a random id's answer goes on unrecorded, and only
                admin keys may then read it back).
        """
        if request_id is None:
            request_id = uuid.uuid4().hex
            try:
                self._claims[request_id] = (owner, await self.owners.claim(request_id, owner))
            except SwitchboardError as exc:
                log.warning("answer not recorded", extra={"request_id": request_id, "error": exc.message})
            return request_id
        check_id(request_id)
        if request_id in self.open:
            raise SwitchboardError(ErrorCode.CONFLICT, TAKEN, "request_id")
        revision = await self.owners.claim(request_id, owner)
        if await self.kept(request_id):
            raise SwitchboardError(ErrorCode.CONFLICT, TAKEN, "request_id")
        self._claims[request_id] = (owner, revision)
        return request_id

    def note_worker(self, request_id: str, claim: tuple[str, int] | None, worker_id: str) -> None:
        """Record, in the background, which worker runs an answer reserved here (see `AnswerOwners.note_worker`)."""
        if claim is None:
            return
        task = asyncio.create_task(self.owners.note_worker(request_id, claim[0], worker_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def kept(self, request_id: str) -> bool:
        """Whether stream TOKENS holds a chunk of `request_id`.

        Raises:
            SwitchboardError: UNAVAILABLE when JetStream does not answer.
        """
        try:
            await self._nc.jetstream().get_last_msg(subjects.TOKENS_STREAM, subjects.tokens_subject(request_id))
        except NotFoundError:
            return False
        except (NatsError, TimeoutError) as exc:
            raise SwitchboardError(
                ErrorCode.UNAVAILABLE, f"stream TOKENS cannot be read now ({exc.__class__.__name__}); try again"
            ) from exc
        return True

    async def leave(
        self, request_id: str, worker_id: str | None, finished: bool, resumable: Callable[[], bool] | None
    ) -> None:
        """The client of an unfinished generation went away: keep it for `resume_grace_s` when a worker took
        it and `resumable()`, else cancel it now. The cancel is shielded, also when the client left while an
        accept was on its way (the worker may have started; one that never ran this request ignores it): a
        cleanup that a second cancellation interrupts must not leave the generation running."""
        grace = self._grace_s
        if not finished and worker_id is not None and grace > 0 and resumable is not None and resumable():
            expiry = asyncio.get_running_loop().call_later(grace, self._abandon, request_id)
            self.detached[request_id] = _Detached(worker_id, expiry)
            log.info("generation detached", extra={"request_id": request_id, "grace_s": grace})
            return
        self.open.discard(request_id)
        if not finished:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(self._cancel(request_id, "client went away"))

    def _abandon(self, request_id: str) -> None:
        """The grace of a detached generation ran out: cancel it."""
        if self.detached.pop(request_id, None) is None:
            return
        self.open.discard(request_id)
        task = asyncio.create_task(self._cancel(request_id, "its client did not come back to resume it"))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _cancel(self, request_id: str, why: str) -> None:
        with contextlib.suppress(NatsError):
            await self._nc.publish(subjects.cancel_subject(request_id), encode(Cancel(request_id, why)))


def check_id(request_id: str) -> None:
    """Raises SwitchboardError (BAD_REQUEST, field `request_id`) unless `request_id` is 1 to 64 letters, digits,
    - and _: one NATS subject token, never a wildcard."""
    if not REQUEST_ID.fullmatch(request_id):
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST, "must be 1 to 64 letters, digits, - and _ (the id of an answer)", "request_id"
        )
