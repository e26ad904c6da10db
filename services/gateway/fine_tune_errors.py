"""Which `startFineTune` argument a refused submission is about, so a form can show the error next to it."""

from __future__ import annotations

import re

from messages import ErrorCode

from .wording import argument_of, field_at

# FineTuneSpec's fields that no argument of the caller's sets: the gateway makes the job id
_NOT_AN_ARGUMENT = frozenset({"job_id"})
_DATASET = re.compile(r"\bdataset\b", re.IGNORECASE)
# failures of the services, not of an argument: retrying the same arguments later may work
_TRANSIENT = frozenset({ErrorCode.BUSY, ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT, ErrorCode.INTERNAL})


def error_field(code: ErrorCode, message: str) -> str | None:
    """The GraphQL argument (`adapterName`, `learningRate`, ...) that `message` is about, or None.

    Checked in order: an invalid adapter name; a msgspec path `$.snake_case` ending the message; a
    conflict (the name is taken or already being trained); a missing or unusable dataset.
    """
    if message.startswith("invalid adapter name"):
        return "adapterName"
    field = field_at(message)
    if field is not None:
        return None if field in _NOT_AN_ARGUMENT else argument_of(field)
    if code is ErrorCode.CONFLICT:
        return None if "a job with id" in message else "adapterName"
    if code in _TRANSIENT:
        return None
    if code is ErrorCode.NOT_FOUND or _DATASET.search(message):
        return "datasetName"
    return None
