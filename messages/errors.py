"""The typed error every service sends instead of a silent drop: a stable code, the request field it is
about (if any), and text for people.

`field` is a path into the request in wire names (`params.max_new_tokens`, `messages[1].content`,
`dataset`), set by the service that refuses. When it is set, `message` says what is wrong with that field
without naming it (as pydantic's `loc` and `msg`), so each API can name the field in its own terms (the
GraphQL argument `maxNewTokens`, OpenAI's `max_tokens`) without reading the text. When it is None,
`message` is a whole sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import msgspec


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    BUSY = "busy"
    CONTEXT_OVERFLOW = "context_overflow"
    ADAPTER_MISSING = "adapter_missing"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    OFFLINE = "offline"
    RATE_LIMITED = "rate_limited"
    CANCELLED = "cancelled"
    INTERNAL = "internal"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INCOMPATIBLE = "incompatible"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"


# The HTTP status of each code, for every API and for NATS micro's error header (`Nats-Service-Error-Code`):
# the OpenAI API answers with it, micro replies carry it, and GraphQL (which answers 200 with `errors`, as
# GraphQL over HTTP asks) names the same code in `extensions.code`. A context overflow is 400 as in OpenAI's
# own API (`context_length_exceeded`; 413 is for a body too large to read); a key is 401, a role 403.
HTTP_STATUS: Final[Mapping[ErrorCode, int]] = MappingProxyType(
    {
        ErrorCode.BAD_REQUEST: 400,
        ErrorCode.CONTEXT_OVERFLOW: 400,
        ErrorCode.UNAUTHENTICATED: 401,
        ErrorCode.FORBIDDEN: 403,
        ErrorCode.ADAPTER_MISSING: 404,
        ErrorCode.NOT_FOUND: 404,
        ErrorCode.CONFLICT: 409,
        ErrorCode.INCOMPATIBLE: 422,
        ErrorCode.BUSY: 429,
        ErrorCode.RATE_LIMITED: 429,
        ErrorCode.CANCELLED: 500,
        ErrorCode.INTERNAL: 500,
        ErrorCode.UNAVAILABLE: 503,
        ErrorCode.OFFLINE: 503,
        ErrorCode.TIMEOUT: 504,
    }
)


def http_status(code: ErrorCode) -> int:
    """The HTTP status that stands for `code` (see `HTTP_STATUS`)."""
    return HTTP_STATUS[code]


class ErrorMessage(msgspec.Struct, frozen=True, tag="error", tag_field="type", omit_defaults=True):
    """A failure a user can read: `code` is for programs, `field` the request field it is about (a wire
    path, or None), `message` for people (about `field` when set, else a whole sentence)."""

    code: ErrorCode
    message: str
    field: str | None = None


def describe(message: str, field: str | None) -> str:
    """One line for logs and for callers that show a single string: "`params.seed` must be ..."."""
    return message if field is None else f"`{field}` {message}"


class SwitchboardError(Exception):
    """Raised inside services; becomes an `ErrorMessage` on the wire (see there for `field`)."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(describe(message, field))
        self.code = code
        self.message = message
        self.field = field

    def to_message(self) -> ErrorMessage:
        return ErrorMessage(code=self.code, message=self.message, field=self.field)

    @classmethod
    def from_message(cls, error: ErrorMessage) -> SwitchboardError:
        return cls(error.code, error.message, error.field)
