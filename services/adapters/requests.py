"""Reading a registry request: an empty body means `{}`, and a bad adapter name gets a readable error."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from messages import ErrorCode, SwitchboardError, decode
from messages.adapters import adapter_name_problem

T = TypeVar("T")

_NAME_AT = "`$.name`"
_META_NAME_AT = "`$.meta.name`"


def decode_request(data: bytes, kind: type[T]) -> T:
    """Decode `data` as `kind`; every failure is a `bad_request` SwitchboardError."""
    body = data if data.strip() else b"{}"
    try:
        return decode(body, kind)
    except SwitchboardError as exc:
        in_meta = _META_NAME_AT in exc.message
        if in_meta or _NAME_AT in exc.message:
            problem = _name_problem(body, in_meta)
            if problem is not None:
                raise SwitchboardError(ErrorCode.BAD_REQUEST, problem) from exc
        raise


def _name_problem(body: bytes, in_meta: bool) -> str | None:
    """Say what is wrong with the adapter name in `body` (msgspec only says which regex it missed)."""
    try:
        raw: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if in_meta and isinstance(raw, dict):
        raw = raw.get("meta")
    name = raw.get("name") if isinstance(raw, dict) else None
    return adapter_name_problem(name) if isinstance(name, str) else None
