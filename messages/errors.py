"""The typed error every service sends instead of a silent drop: a stable code, the request field it is
about (if any), and text for people.

`field` is a path into the request in wire names (`params.max_new_tokens`, `messages[1].content`,
`dataset`), set by the service that refuses. When it is set, `message` says what is wrong with that field
without naming it (as pydantic's `loc` and `msg`), so each API can name the field in its own terms (the
GraphQL argument `maxNewTokens`, OpenAI's `max_tokens`) without reading the text. When it is None,
`message` is a whole sentence.
"""

from __future__ import annotations

from enum import StrEnum

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
