"""startFineTune's errorField: which GraphQL argument a training-service error is about (a pure mapping).

The messages are the training service's own: msgspec's decode errors of a FineTuneSpec, the adapter-name
rules, name conflicts and dataset resolution, produced here by the same code, not copied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from messages import ErrorCode, FineTuneSpec, JobRecord, SwitchboardError, decode
from messages.adapters import adapter_name_problem
from services.gateway.fine_tune_errors import error_field
from services.gateway.schema import schema
from services.training.sources import resolve_dataset
from services.training.validate import check_not_training, decode_request


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
    assert f"$.{field}" in exc.message
    assert error_field(exc.code, exc.message) == argument


def test_out_of_range_float() -> None:
    with pytest.raises(SwitchboardError) as caught:
        decode(b'{"job_id": "j", "adapter_name": "x", "num_epochs": 1e999}', FineTuneSpec)
    assert error_field(caught.value.code, caught.value.message) == "numEpochs"


@pytest.mark.parametrize("name", ["../x", "", "a" * 65, ".hidden", "a..b", "trailing.", "sp ace", "é"])
def test_bad_adapter_names(name: str) -> None:
    exc = decode_error(adapter_name=name)
    assert exc.message.startswith("invalid adapter name")
    assert error_field(exc.code, exc.message) == "adapterName"
    problem = adapter_name_problem(name)
    assert problem is not None and error_field(ErrorCode.BAD_REQUEST, problem) == "adapterName"


def test_a_bad_name_that_looks_like_a_path_is_still_the_name() -> None:
    problem = adapter_name_problem("- at `$.lora_r`")
    assert problem is not None and error_field(ErrorCode.BAD_REQUEST, problem) == "adapterName"


def test_conflicts_are_about_the_name() -> None:
    taken = "an adapter named 'mine' already exists; delete it first or choose another name"
    assert error_field(ErrorCode.CONFLICT, taken) == "adapterName"
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
    assert error_field(caught.value.code, caught.value.message) == "adapterName"
    assert error_field(ErrorCode.CONFLICT, "a job with id 'abc' exists already") is None


@pytest.mark.parametrize(
    "dataset", ["/no/such/file.jsonl", "./missing.json", "/etc/hostname", "not a dataset!", "../../etc/passwd"]
)
def test_dataset_problems(dataset: str) -> None:
    with pytest.raises(SwitchboardError) as caught:
        resolve_dataset(dataset, Path("/nonexistent/datasets"))
    assert error_field(caught.value.code, caught.value.message) == "datasetName"


def test_dataset_not_found_and_offline() -> None:
    assert error_field(ErrorCode.NOT_FOUND, "no such thing") == "datasetName"
    offline = "cannot load dataset 'tatsu-lab/alpaca': the Hugging Face hub is not reachable from the training service"
    assert error_field(ErrorCode.OFFLINE, offline) == "datasetName"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (ErrorCode.UNAVAILABLE, "the training service is not running; start it with `python -m services.training`"),
        (ErrorCode.UNAVAILABLE, "the training service is shutting down; try again"),
        (ErrorCode.TIMEOUT, "the training service did not answer within 10s"),
        (ErrorCode.BUSY, "the record of job abc kept changing; try again"),
        (ErrorCode.BAD_REQUEST, "invalid request: Object contains unknown field `batch`"),
        (ErrorCode.BAD_REQUEST, "invalid request: Expected `str` matching regex '^x$' - at `$.job_id`"),
    ],
)
def test_errors_about_no_argument(code: ErrorCode, message: str) -> None:
    assert error_field(code, message) is None


def test_the_schema_has_the_field() -> None:
    sdl = schema.as_str()
    start = sdl.index("type FineTuneResult")
    assert "errorField: String" in sdl[start : sdl.index("}", start)]
