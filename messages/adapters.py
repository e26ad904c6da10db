"""Messages of the adapter registry: an adapter's metadata, the registry's requests and its replies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

from .codec import decode
from .errors import ErrorCode, ErrorMessage, SwitchboardError
from .fields import NAME_RULES, AdapterName, RequestId, UtcTimestamp

T = TypeVar("T")

_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")  # the pattern of `fields.AdapterName`


def utc_timestamp(moment: datetime | None = None) -> str:
    """`moment` (default: now) as ISO-8601 UTC with a `Z`, the form of `AdapterMeta.created`."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def adapter_name_problem(name: str) -> str | None:
    """What is wrong with `name` as an adapter name (it is also a KV key and an object name), said of the
    field that holds it ("is not a valid adapter name ('a b'): use ..."), or None when it can be one."""
    if not _NAME.fullmatch(name) or name.endswith(".") or ".." in name:
        shown = name if len(name) <= 80 else name[:77] + "..."
        return f"is not a valid adapter name ({shown!r}): use {NAME_RULES}"
    return None


def check_adapter_name(name: str, field: str = "name") -> str:
    """Return `name`; else raise a `bad_request` SwitchboardError about `field` that says what a name may be."""
    problem = adapter_name_problem(name)
    if problem is not None:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, problem, field)
    return name


def decode_naming_problems(data: bytes, kind: type[T], *name_paths: tuple[str, ...]) -> T:
    """Decode `data` (empty means `{}`) as `kind`. When what failed is the adapter name at one of `name_paths`
    (keys from the top, e.g. `("meta", "name")`), the error says what a name may be: msgspec only names the
    regex it missed."""
    body = data if data.strip() else b"{}"
    try:
        return decode(body, kind)
    except SwitchboardError as exc:
        for path in name_paths:
            if exc.field == ".".join(path):
                problem = _name_problem_at(body, path)
                if problem is not None:
                    raise SwitchboardError(ErrorCode.BAD_REQUEST, problem, exc.field) from exc
        raise


def _name_problem_at(body: bytes, path: tuple[str, ...]) -> str | None:
    try:
        raw: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    for key in path:
        raw = raw.get(key) if isinstance(raw, dict) else None
    return adapter_name_problem(raw) if isinstance(raw, str) else None


class AdapterMeta(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the registry knows about one adapter (KV `adapters`, key `adapter.<name>`).

    Its files are the object `name` in Object Store `adapter-files`.
    """

    name: AdapterName
    base_model: Annotated[str, Meta(min_length=1, max_length=512)]  # the model id it was trained on
    created: UtcTimestamp  # ISO-8601 UTC, e.g. 2025-01-31T12:00:00Z (see `utc_timestamp`)
    dataset: Annotated[str, Meta(min_length=1, max_length=1024)]  # a dataset id or path
    steps: Annotated[int, Meta(ge=0)]
    size_bytes: Annotated[int, Meta(ge=0)]  # of its files; 0 means: take the object's size
    final_loss: float | None = None
    job_id: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    lora_r: Annotated[int, Meta(ge=1)] | None = None
    lora_alpha: Annotated[int, Meta(ge=1)] | None = None


# -- requests (`svc.adapters.<verb>`; an empty body is read as `{}`) -------------------------------------


class ListAdapters(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every registered adapter and the active one."""

    request_id: RequestId | None = None  # optional, for logs


class ActivateAdapter(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Make `name` the default adapter of every inference worker."""

    name: AdapterName
    request_id: RequestId | None = None


class DeactivateAdapter(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Back to the base model."""

    request_id: RequestId | None = None


class DeleteAdapter(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Remove an adapter and its files; deleting the active one makes the base model active."""

    name: AdapterName
    request_id: RequestId | None = None


class RegisterAdapter(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Add an adapter whose files are already uploaded as object `meta.name` (training sends this)."""

    meta: AdapterMeta
    request_id: RequestId | None = None


# -- replies ----------------------------------------------------------------------------------------


class AdapterList(msgspec.Struct, frozen=True, tag="adapters", tag_field="type"):
    """The registry's contents (sorted by name); `active` None means the base model.

    The answer to list, register and delete (after the change).
    """

    adapters: list[AdapterMeta]
    active: str | None


class AdapterState(msgspec.Struct, frozen=True, tag="state", tag_field="type"):
    """Which adapter is active now (None: the base model). The answer to activate and deactivate.

    `revision`: the revision of KV `adapters` key `active` that holds this choice; a worker whose
    `ModelInfo.active_revision` is at least this has applied it, or a later choice.
    """

    active: str | None
    revision: int = 0


AdapterReply = AdapterList | AdapterState | ErrorMessage
