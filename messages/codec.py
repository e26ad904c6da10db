"""JSON on the wire (so `nats sub` prints readable text), strict on the way in."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from .errors import ErrorCode, SwitchboardError
from .validation import explain

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def encode(message: Any) -> bytes:
    """Encode a message struct as compact JSON."""
    return _encoder.encode(message)


def decode(data: bytes, kind: type[T]) -> T:
    """Decode JSON into `kind`.

    Raises:
        SwitchboardError: `bad_request`; for a value the type refuses, `field` is its wire path (see
            `validation.explain`).
    """
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as exc:
        field, message = explain(str(exc))
        raise SwitchboardError(ErrorCode.BAD_REQUEST, message, field) from exc
    except msgspec.DecodeError as exc:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"malformed JSON: {exc}") from exc
