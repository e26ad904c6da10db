"""The typed error every service sends instead of a silent drop: a stable code plus human text."""

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


class ErrorMessage(msgspec.Struct, frozen=True, tag="error", tag_field="type"):
    """A failure a user can read: `code` is for programs, `message` for people."""

    code: ErrorCode
    message: str


class SwitchboardError(Exception):
    """Raised inside services; becomes an `ErrorMessage` on the wire."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_message(self) -> ErrorMessage:
        return ErrorMessage(code=self.code, message=self.message)

    @classmethod
    def from_message(cls, error: ErrorMessage) -> SwitchboardError:
        return cls(error.code, error.message)
