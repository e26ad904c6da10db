"""JSON on the wire (so `nats sub` prints readable text), strict on the way in."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from .errors import ErrorCode, SwitchboardError

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def encode(message: Any) -> bytes:
    """Encode a message struct as compact JSON."""
    return _encoder.encode(message)


def decode(data: bytes, kind: type[T]) -> T:
    """Decode JSON into `kind`; a malformed or invalid payload raises a `bad_request` SwitchboardError."""
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as exc:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"invalid request: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"malformed JSON: {exc}") from exc
