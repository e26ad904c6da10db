"""startFineTune's errorField: the GraphQL argument a training-service error is about, read from the
error's `field` (never its text).

The errors are the training service's own: msgspec's decode errors of a FineTuneSpec, the adapter-name
rules, name conflicts and dataset resolution, produced here by the same code, not copied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from messages import ErrorCode, FineTuneSpec, JobRecord, SwitchboardError, decode
from services.gateway.graphql.mutation import _FINE_TUNE_ARGUMENTS, _argument_of
from services.gateway.graphql.schema import schema
from services.training.sources import resolve_dataset
from services.training.validate import check_not_training, decode_request


def error_field(exc: SwitchboardError) -> str | None:
    return _argument_of(exc, _FINE_TUNE_ARGUMENTS)


def decode_error(**fields: object) -> SwitchboardError:
    body = {"job_id": "job1", "adapter_name": "ok-name", **fields}
    with pytest.raises(SwitchboardError) as caught:
        decode_request(json.dumps(body).encode(), FineTuneSpec)
    return caught.value


@pytest.mark.parametrize(
    ("field", "value", "argument"),
    [
        ("num_samples", 0, "numSamples"),
        ("num_samples", 100_001, "numSamples"),
        ("num_samples", 1.5, "numSamples"),
        ("num_epochs", 0, "numEpochs"),
        ("num_epochs", 1000, "numEpochs"),
        ("learning_rate", -0.001, "learningRate"),
        ("learning_rate", 5, "learningRate"),
        ("learning_rate", "nan", "learningRate"),
        ("lora_r", 0, "loraR"),
        ("lora_r", 4096, "loraR"),
        ("lora_alpha", 1_000_000, "loraAlpha"),
        ("max_steps", 0, "maxSteps"),
        ("dataset", "", "datasetName"),
        ("dataset", "x" * 2000, "datasetName"),
    ],
)
def test_msgspec_paths_name_the_argument(field: str, value: object, argument: str) -> None:
    exc = decode_error(**{field: value})
    assert exc.field == field
    assert error_field(exc) == argument


def test_out_of_range_float() -> None:
    with pytest.raises(SwitchboardError) as caught:
        decode(b'{"job_id": "j", "adapter_name": "x", "num_epochs": 1e999}', FineTuneSpec)
    assert error_field(caught.value) == "numEpochs"


@pytest.mark.parametrize("name", ["../x", "", "a" * 65, ".hidden", "a..b", "trailing.", "sp ace", "é"])
def test_bad_adapter_names(name: str) -> None:
    exc = decode_error(adapter_name=name)
    assert exc.message.startswith("is not a valid adapter name")
    assert error_field(exc) == "adapterName"


def test_a_bad_name_that_looks_like_a_path_is_still_the_name() -> None:
    exc = decode_error(adapter_name="- at `$.lora_r`")
    assert error_field(exc) == "adapterName"


def test_conflicts_are_about_the_name() -> None:
    record = decode(
        json.dumps(
            {
                "type": "job",
                "spec": {"job_id": "j1", "adapter_name": "dataset-lora"},
                "state": "running",
                "created": "2025-01-01T00:00:00Z",
            }
        ).encode(),
        JobRecord,
    )
    with pytest.raises(SwitchboardError) as caught:
        check_not_training("dataset-lora", [record])
    assert error_field(caught.value) == "adapterName"
    # the job id is the gateway's, not an argument
    assert error_field(SwitchboardError(ErrorCode.CONFLICT, "is taken", "job_id")) is None


@pytest.mark.parametrize(
    "dataset", ["/no/such/file.jsonl", "./missing.json", "/etc/hostname", "not a dataset!", "../../etc/passwd"]
)
def test_dataset_problems(dataset: str) -> None:
    with pytest.raises(SwitchboardError) as caught:
        resolve_dataset(dataset, Path("/nonexistent/datasets"))
    assert error_field(caught.value) == "datasetName"


def test_a_missing_local_dataset_is_not_found() -> None:
    with pytest.raises(SwitchboardError) as caught:
        resolve_dataset("missing.jsonl", Path("/nonexistent/datasets"))
    assert caught.value.code is ErrorCode.NOT_FOUND and error_field(caught.value) == "datasetName"


@pytest.mark.parametrize(
    "exc",
    [
        SwitchboardError(ErrorCode.UNAVAILABLE, "the training service is shutting down; try again"),
        SwitchboardError(ErrorCode.TIMEOUT, "the training service did not answer within 10s"),
        SwitchboardError(ErrorCode.BUSY, "the record of job abc kept changing; try again"),
        decode_error(batch=4),  # an unknown field is no argument of startFineTune
        decode_error(job_id="x y"),
    ],
)
def test_errors_about_no_argument(exc: SwitchboardError) -> None:
    assert error_field(exc) is None


def test_the_schema_has_the_field() -> None:
    sdl = schema.as_str()
    start = sdl.index("type FineTuneResult")
    assert "errorField: String" in sdl[start : sdl.index("}", start)]
