"""Reading a registry request: an empty body means `{}`, and a bad adapter name gets a readable error."""

from __future__ import annotations

from typing import TypeVar

from messages.adapters import decode_naming_problems

T = TypeVar("T")


def decode_request(data: bytes, kind: type[T]) -> T:
    """Decode `data` as `kind`; every failure is a `bad_request` SwitchboardError."""
    return decode_naming_problems(data, kind, ("meta", "name"), ("name",))
