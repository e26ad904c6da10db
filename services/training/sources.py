"""Where a job's data comes from: the bundled set, a JSON/JSONL file in the dataset folder, or a Hugging Face id.

Local files come only from the dataset folder (`DATASET_DIR`): a request names a file there (a relative
path), or gives an absolute path that lies inside it. Either is resolved, symlinks included, before it is
checked, so neither `..` nor a link can lead a job to a file elsewhere on the training host.
Resolving a name needs no network and no heavy imports, so submitting can check it at once; a hub id can
only be checked by loading it (see `examples.load_rows`).
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
    f"use an uploaded dataset's name (uploadDataset), {BUNDLED_DATASET!r} (the shipped set), a .json or .jsonl "
    "file in the dataset folder, or a Hugging Face dataset id such as 'tatsu-lab/alpaca'"
)


DATASET_FIELD = "dataset"  # FineTuneSpec's field that names the data


class SourceKind(StrEnum):
    BUNDLED = "bundled"
    FILE = "file"
    HUB = "hub"
    UPLOADED = "uploaded"  # a dataset in Object Store `datasets` (see `datasets.DatasetStore`)


@dataclass(frozen=True)
class DatasetSource:
    kind: SourceKind
    location: str  # a file path, a hub id, or an uploaded dataset's name (a local copy's path once fetched)
    shown: str | None = None  # the name the caller gave, for messages (never the server's own paths)


def resolve_dataset(name: str, dataset_dir: Path) -> DatasetSource:
    """What `name` refers to, local files looked up in `dataset_dir`.

    Raises:
        SwitchboardError: about field `dataset`: NOT_FOUND for a file that does not exist in `dataset_dir`;
            BAD_REQUEST when `name` cannot be a dataset or names a file outside `dataset_dir` (after
            resolving `..` and symlinks).
    """
    text = name.strip()
    if text.lower() in (BUNDLED_DATASET, BUNDLED_FILE.stem):
        return DatasetSource(SourceKind.BUNDLED, str(BUNDLED_FILE), BUNDLED_DATASET)
    looks_like_path = text.startswith(("/", ".", "~")) or text.lower().endswith(FILE_SUFFIXES) or "\\" in text
    if "\x00" in text:
        raise _refused(ErrorCode.BAD_REQUEST, f"contains a NUL character; {HINT}")
    if looks_like_path:
        folder = dataset_dir.expanduser().resolve()
        try:
            path = (folder / Path(text).expanduser()).resolve()  # an absolute `text` replaces `folder`
        except (OSError, RuntimeError) as exc:  # a symlink loop, an unknown ~user
            raise _refused(ErrorCode.BAD_REQUEST, f"is not a usable path ({text!r}: {exc})") from exc
        if not path.is_relative_to(folder):
            raise _refused(
                ErrorCode.BAD_REQUEST,
                f"names a file outside the dataset folder (DATASET_DIR): {text!r}; put the file there "
                f"and name it by its path inside that folder; {HINT}",
            )
        if path.suffix.lower() not in FILE_SUFFIXES:
            raise _refused(ErrorCode.BAD_REQUEST, f"is not a .json or .jsonl file ({text!r}); {HINT}")
        if not path.is_file():
            raise _refused(ErrorCode.NOT_FOUND, f"names no file in the dataset folder (DATASET_DIR): {text!r}; {HINT}")
        return DatasetSource(SourceKind.FILE, str(path), text)
    if _HUB_ID.fullmatch(text) and ".." not in text:
        return DatasetSource(SourceKind.HUB, text)
    raise _refused(ErrorCode.BAD_REQUEST, f"is not a dataset name ({text!r}); {HINT}")


def _refused(code: ErrorCode, message: str) -> SwitchboardError:
    return SwitchboardError(code, message, DATASET_FIELD)
