"""Replying to a micro request with a typed error: the JSON body for programs, the micro error
headers (an HTTP-like code) for `nats micro stats` and the `nats` CLI."""

from __future__ import annotations

import contextlib

from nats.micro.request import Request

from messages import ErrorCode, ErrorMessage, describe, encode

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
