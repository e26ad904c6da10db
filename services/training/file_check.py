"""A local dataset file looked at before its job is queued: its first row must be in one of the formats of
`formats` (chat, ShareGPT, prompt/completion, Alpaca), so a file that is not JSON, or has other columns,
is refused at once instead of failing when the job starts.

Only the first row is read (the first line of JSON Lines; a JSON file whole only up to `PEEK_BYTES`): a
bad row further in still fails the job, with the loader's reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from messages import ErrorCode, SwitchboardError

from .formats import FORMATS_HINT, detect
from .sources import DATASET_FIELD

PEEK_BYTES = 4 * 2**20  # a JSON file larger than this is left to the loader


def check_local_file(path: Path, shown: str) -> None:
    """Raise SwitchboardError (BAD_REQUEST, field `dataset`) when `path`'s first row is in no known format;
    `shown` is the name the caller gave (for the message)."""
    with path.open("rb") as handle:
        head = handle.read(PEEK_BYTES + 1)
    whole = len(head) <= PEEK_BYTES
    if not whole:
        complete, _, _ = head.rpartition(b"\n")  # the part after the last newline was cut off
        if not complete.strip():
            return  # one line longer than PEEK_BYTES: the loader decides
        head = complete
    first = _first_row(head, whole)
    if first is None:
        raise _refused(f"has no row ({shown!r}): it is empty or not JSON / JSON Lines")
    if isinstance(first, str):
        raise _refused(f"is not JSON or JSON Lines of rows ({shown!r}: {first})")
    if detect(first) is None:
        has = ", ".join(sorted(first)) or "nothing"
        raise _refused(f"is in no known format ({shown!r}): its first row has {has}; {FORMATS_HINT}")


def _first_row(head: bytes, whole: bool) -> dict[str, Any] | str | None:
    """The first row as a dict, a parse error as a str, or None when there is no row."""
    if whole:
        try:
            document = msgspec.json.decode(head)
        except msgspec.DecodeError:
            pass  # JSON Lines, or not JSON at all: look at the first line
        else:
            if isinstance(document, list):
                return _row(document[0]) if document else None
            if isinstance(document, dict) and all(isinstance(v, list) for v in document.values()) and document:
                return {k: None for k in document}  # columns: {"instruction": [...], "output": [...]}
            return _row(document)
    line = next((raw for raw in head.splitlines() if raw.strip()), None)
    if line is None:
        return None
    try:
        return _row(msgspec.json.decode(line))
    except msgspec.DecodeError as exc:
        return f"line 1: {exc}"


def _row(value: object) -> dict[str, Any] | str:
    return value if isinstance(value, dict) else f"a row is {type(value).__name__}, not an object"


def _refused(message: str) -> SwitchboardError:
    return SwitchboardError(ErrorCode.BAD_REQUEST, message, DATASET_FIELD)
