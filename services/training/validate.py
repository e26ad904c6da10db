"""Checking a submitted job before it is queued: its fields, its adapter name, its dataset."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError

from messages import ErrorCode, FineTuneSpec, JobRecord, JobState, SwitchboardError, decode, subjects
from messages.adapters import adapter_name_problem

from .sources import resolve_dataset

T = TypeVar("T")

_NAME_AT = "`$.adapter_name`"


def decode_request(data: bytes, kind: type[T]) -> T:
    """Decode `data` (empty means `{}`) as `kind`; a bad adapter name gets a message that says what a name may be."""
    body = data if data.strip() else b"{}"
    try:
        return decode(body, kind)
    except SwitchboardError as exc:
        if _NAME_AT in exc.message:
            problem = _name_problem(body)
            if problem is not None:
                raise SwitchboardError(ErrorCode.BAD_REQUEST, problem) from exc
        raise


def check_spec(spec: FineTuneSpec) -> None:
    """What can be checked without NATS: the adapter name's rules and that the dataset can be found."""
    problem = adapter_name_problem(spec.adapter_name)
    if problem is not None:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, problem)
    resolve_dataset(spec.dataset)


async def check_name_free(js: JetStreamContext, name: str) -> None:
    """Raise `conflict` when an adapter named `name` is registered (KV `adapters`, key `adapter.<name>`)."""
    try:
        kv = await js.key_value(subjects.ADAPTERS_BUCKET)
        await kv.get(subjects.adapter_key(name))
    except (BucketNotFoundError, KeyNotFoundError):
        return
    raise SwitchboardError(
        ErrorCode.CONFLICT, f"an adapter named {name!r} already exists; delete it first or choose another name"
    )


def check_not_training(name: str, records: list[JobRecord]) -> None:
    """Raise `conflict` when a queued or running job will produce an adapter named `name`."""
    for record in records:
        if record.spec.adapter_name == name and record.state in (JobState.QUEUED, JobState.RUNNING):
            raise SwitchboardError(
                ErrorCode.CONFLICT,
                f"job {record.spec.job_id} ({record.state.value}) is already training an adapter named {name!r}; "
                "wait for it, cancel it, or choose another name",
            )


def _name_problem(body: bytes) -> str | None:
    try:
        raw: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    name = raw.get("adapter_name") if isinstance(raw, dict) else None
    return adapter_name_problem(name) if isinstance(name, str) else None
