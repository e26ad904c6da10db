"""Replying to a micro request with a typed error: the JSON body for programs, the micro error
headers (an HTTP-like code) for `nats micro stats` and the `nats` CLI; and answering liveness pings."""

from __future__ import annotations

import contextlib
from collections.abc import Container

from nats.aio.msg import Msg
from nats.micro.request import Request

from messages import ErrorCode, ErrorMessage, describe, encode, subjects

MICRO_STATUS: dict[ErrorCode, str] = {
    ErrorCode.BAD_REQUEST: "400",
    ErrorCode.ADAPTER_MISSING: "404",
    ErrorCode.NOT_FOUND: "404",
    ErrorCode.UNAUTHENTICATED: "401",
    ErrorCode.FORBIDDEN: "403",
    ErrorCode.CONFLICT: "409",
    ErrorCode.INCOMPATIBLE: "422",
    ErrorCode.CONTEXT_OVERFLOW: "413",
    ErrorCode.BUSY: "429",
    ErrorCode.RATE_LIMITED: "429",
    ErrorCode.OFFLINE: "503",
    ErrorCode.UNAVAILABLE: "503",
    ErrorCode.TIMEOUT: "504",
}


async def reply_error(req: Request, error: ErrorMessage) -> None:
    """Send `error`; a requester that already went away is not this service's failure."""
    with contextlib.suppress(Exception):
        await req.respond_error(
            MICRO_STATUS.get(error.code, "500"), describe(error.message, error.field), data=encode(error)
        )


async def answer_ping(msg: Msg, held: Container[str]) -> None:
    """Answer a liveness ping (`infer.ping.<worker_id>`, `gateway.ping.<instance>`): `PING_ACTIVE` when the
    request id in the body (plain text) is in `held`, else `PING_UNKNOWN`; an asker gone meanwhile is ignored."""
    answer = subjects.PING_ACTIVE if msg.data.decode(errors="replace") in held else subjects.PING_UNKNOWN
    with contextlib.suppress(Exception):
        await msg.respond(answer)
