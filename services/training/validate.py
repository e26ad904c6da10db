"""Checking a submitted job before it is queued: its fields, its adapter name, its dataset."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError

from messages import ErrorCode, FineTuneSpec, JobRecord, JobState, SwitchboardError, subjects
from messages.adapters import adapter_name_problem, check_adapter_name, decode_naming_problems

from .config import TrainingConfig
from .datasets import DatasetStore
from .file_check import check_local_file
from .sources import DATASET_FIELD, DatasetSource, SourceKind, resolve_dataset

T = TypeVar("T")


def decode_request(data: bytes, kind: type[T]) -> T:
    """Decode `data` (empty means `{}`) as `kind`; a bad adapter name gets a message that says what a name may be."""
    return decode_naming_problems(data, kind, ("adapter_name",))


def check_spec_fields(spec: FineTuneSpec) -> None:
    """The rules between fields that msgspec's constraints cannot say. Raises SwitchboardError."""
    check_adapter_name(spec.adapter_name, "adapter_name")
    if spec.validation_dataset is not None and spec.validation_fraction is not None:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            "cannot go with a validation dataset: hold out a fraction of the data or give a dataset, not both",
            "validation_fraction",
        )
    if spec.early_stopping_patience is not None and spec.validation_fraction == 0 and not spec.validation_dataset:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            "needs held-out rows to watch: give a validation dataset or a validation fraction above 0",
            "early_stopping_patience",
        )


async def find_dataset(
    name: str, config: TrainingConfig, datasets: DatasetStore, field: str = DATASET_FIELD
) -> DatasetSource:
    """Where `name` points: an uploaded dataset first (by that name), else as `sources.resolve_dataset` says,
    a local file's first row checked. Raises SwitchboardError about `field`."""
    if adapter_name_problem(name) is None and await datasets.get(name) is not None:
        return DatasetSource(SourceKind.UPLOADED, name, name)
    return _local_source(name, config.dataset_dir, field)


def _local_source(name: str, dataset_dir: Path, field: str) -> DatasetSource:
    try:
        source = resolve_dataset(name, dataset_dir)
        if source.kind is SourceKind.FILE:
            check_local_file(Path(source.location), name)
    except SwitchboardError as exc:
        if field == DATASET_FIELD:
            raise
        raise SwitchboardError(exc.code, exc.message, field) from None
    return source


async def check_name_free(js: JetStreamContext, name: str) -> None:
    """Raise `conflict` when an adapter named `name` is registered (KV `adapters`, key `adapter.<name>`)."""
    try:
        kv = await js.key_value(subjects.ADAPTERS_BUCKET)
        await kv.get(subjects.adapter_key(name))
    except (BucketNotFoundError, KeyNotFoundError):
        return
    raise SwitchboardError(
        ErrorCode.CONFLICT,
        f"is taken: an adapter named {name!r} exists already; delete it first or choose another name",
        "adapter_name",
    )


def check_not_training(name: str, records: list[JobRecord]) -> None:
    """Raise `conflict` when a queued or running job will produce an adapter named `name`."""
    for record in records:
        if record.spec.adapter_name == name and record.state in (JobState.QUEUED, JobState.RUNNING):
            raise SwitchboardError(
                ErrorCode.CONFLICT,
                f"is taken: job {record.spec.job_id} ({record.state.value}) is already training an adapter "
                f"named {name!r}; wait for it, cancel it, or choose another name",
                "adapter_name",
            )
