"""Messages about datasets: a team's training data, uploaded once and read by any training worker.

An upload travels as a file in Object Store `dataset-uploads` (the gateway writes it); `AddDataset` asks
the training service to check it (`services.training.formats`) and store it as a dataset. Names follow
the adapter-name rules (1-64 letters, digits, '.', '_', '-').
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from .errors import ErrorMessage
from .fields import AdapterName, RequestId, UtcTimestamp

DatasetName = AdapterName  # the same rules
PREVIEW_ROWS = 20  # rows kept in a dataset's info for previews
PREVIEW_CHARS = 2000  # characters of each turn kept in a preview


class DatasetTurn(msgspec.Struct, frozen=True):
    role: str  # system, user or assistant
    content: str  # cut to PREVIEW_CHARS in a preview


class DatasetRow(msgspec.Struct, frozen=True):
    line: int  # in the file (JSON Lines), or the row of a JSON array
    messages: list[DatasetTurn]


class DatasetInfo(msgspec.Struct, frozen=True, tag="dataset", tag_field="type"):
    """A stored dataset (KV `datasets`, key `dataset.<name>`); the file is object `<name>` of Object Store
    `datasets`, byte for byte as uploaded."""

    name: DatasetName
    format: str  # chat, sharegpt, prompt_completion or alpaca
    rows: int
    tokens: int  # every token of every row, rendered with the base model's chat template
    size_bytes: int
    created_at: UtcTimestamp
    base_model: str  # whose tokenizer counted `tokens`
    preview: list[DatasetRow] = msgspec.field(default_factory=list)  # the first PREVIEW_ROWS rows


class AddDataset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Check upload `upload` (an object in `dataset-uploads`) and store it as dataset `name`
    (`svc.training.datasets.add`). The upload is removed either way."""

    name: DatasetName
    upload: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    filename: Annotated[str, Meta(max_length=1024)] | None = None  # as the client named it, for messages


class GetDataset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One dataset's info (`svc.training.datasets.get`), or delete it (`svc.training.datasets.delete`)."""

    name: DatasetName


class ListDatasets(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every dataset's info, by name (`svc.training.datasets.list`; an empty body works too)."""

    request_id: RequestId | None = None


class DatasetList(msgspec.Struct, frozen=True, tag="datasets", tag_field="type"):
    datasets: list[DatasetInfo]


DatasetReply = DatasetInfo | ErrorMessage
DatasetListReply = DatasetList | ErrorMessage
