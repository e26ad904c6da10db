"""GraphQL types of datasets (uploaded training data) and of a fine-tune's held-out evaluation."""

from __future__ import annotations

import strawberry

from messages import DatasetInfo
from messages.datasets import PREVIEW_ROWS


@strawberry.type(description="A turn of a dataset row: system, user or assistant")
class DatasetTurn:
    role: str
    content: str


@strawberry.type(description="A dataset row as the trainer reads it, whatever its format")
class DatasetRow:
    line: int = strawberry.field(description="Its line in the file (JSON Lines), or its row in a JSON array")
    messages: list[DatasetTurn]


@strawberry.type(description="Training data uploaded with uploadDataset, stored in NATS for every training worker")
class Dataset:
    name: str
    format: str = strawberry.field(description="chat, sharegpt, prompt_completion or alpaca")
    rows: int
    tokens: int = strawberry.field(description="Tokens of every row, rendered with the base model's chat template")
    size_bytes: int
    created_at: str
    base_model: str = strawberry.field(description="The model whose tokenizer counted `tokens`")
    _info: strawberry.Private[DatasetInfo]

    @strawberry.field(description=f"The first rows (up to {PREVIEW_ROWS}), as turns")
    def preview(self, first: int = 5) -> list[DatasetRow]:
        rows = self._info.preview[: max(0, min(first, PREVIEW_ROWS))]
        return [
            DatasetRow(line=r.line, messages=[DatasetTurn(role=t.role, content=t.content) for t in r.messages])
            for r in rows
        ]

    @classmethod
    def of(cls, info: DatasetInfo) -> Dataset:
        return cls(
            name=info.name,
            format=info.format,
            rows=info.rows,
            tokens=info.tokens,
            size_bytes=info.size_bytes,
            created_at=info.created_at,
            base_model=info.base_model,
            _info=info,
        )


@strawberry.type(description="The outcome of uploadDataset / deleteDataset")
class DatasetResult:
    ok: bool
    error: str | None = None
    error_code: str | None = None
    error_field: str | None = strawberry.field(
        default=None, description="The argument the error is about (name or file), null when it is about none"
    )
    dataset: Dataset | None = None
