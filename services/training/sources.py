"""Where a job's data comes from: the bundled set, a local JSON/JSONL file, or a Hugging Face dataset id.

Resolving a name needs no network and no heavy imports, so submitting can check it at once; a hub id can
only be checked by loading it (see `data.load_rows`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from messages import ErrorCode, SwitchboardError
from messages.training import BUNDLED_DATASET

BUNDLED_FILE = Path(__file__).resolve().parent / "data" / "switchboard-instruct.jsonl"
FILE_SUFFIXES = (".json", ".jsonl")
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})?$")
HINT = (
    f"use {BUNDLED_DATASET!r} (the shipped set), a local .json or .jsonl file in Alpaca format "
    "(instruction / input / output), or a Hugging Face dataset id such as 'tatsu-lab/alpaca'"
)


class SourceKind(StrEnum):
    BUNDLED = "bundled"
    FILE = "file"
    HUB = "hub"


@dataclass(frozen=True)
class DatasetSource:
    kind: SourceKind
    location: str  # a file path or a hub id


def resolve_dataset(name: str) -> DatasetSource:
    """What `name` refers to; raises a `bad_request` SwitchboardError when it cannot be a dataset."""
    text = name.strip()
    if text.lower() in (BUNDLED_DATASET, BUNDLED_FILE.stem):
        return DatasetSource(SourceKind.BUNDLED, str(BUNDLED_FILE))
    looks_like_path = text.startswith(("/", ".", "~")) or text.lower().endswith(FILE_SUFFIXES) or "\\" in text
    if looks_like_path:
        path = Path(text).expanduser()
        if path.suffix.lower() not in FILE_SUFFIXES:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"dataset {text!r} is not a .json or .jsonl file; {HINT}")
        if not path.is_file():
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST, f"dataset file {text!r} does not exist on the training service's host; {HINT}"
            )
        return DatasetSource(SourceKind.FILE, str(path.resolve()))
    if _HUB_ID.fullmatch(text) and ".." not in text:
        return DatasetSource(SourceKind.HUB, text)
    raise SwitchboardError(ErrorCode.BAD_REQUEST, f"dataset {text!r} is not a dataset name; {HINT}")
