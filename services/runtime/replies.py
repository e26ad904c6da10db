"""Replying to a micro request with a typed error: the JSON body for programs, the micro error
headers (an HTTP-like code) for `nats micro stats` and the `nats` CLI; and answering liveness pings."""

from __future__ import annotations

import contextlib
from collections.abc import Container, Mapping

from nats.aio.msg import Msg
from nats.micro.request import Request

from messages import HTTP_STATUS, ErrorCode, ErrorMessage, describe, encode, subjects

# the micro error header of each code: its HTTP status (one table, messages.errors.HTTP_STATUS)
MICRO_STATUS: Mapping[ErrorCode, str] = {code: str(status) for code, status in HTTP_STATUS.items()}


async def reply_error(req: Request, error: ErrorMessage) -> None:
    """Send `error`; a requester that already went away is not this service's failure."""
    with contextlib.suppress(Exception):
        await req.respond_error(MICRO_STATUS[error.code], describe(error.message, error.field), data=encode(error))


async def answer_ping(msg: Msg, held: Container[str]) -> None:
    """Answer a liveness ping (`infer.ping.<worker_id>`, `gateway.ping.<instance>`): `PING_ACTIVE` when the
    request id in the body (plain text) is in `held`, else `PING_UNKNOWN`; an asker gone meanwhile is ignored."""
    answer = subjects.PING_ACTIVE if msg.data.decode(errors="replace") in held else subjects.PING_UNKNOWN
    with contextlib.suppress(Exception):
        await msg.respond(answer)
