"""Bad submissions get clear typed errors (bad names, taken names, numbers, datasets, unknown fields) and
the service keeps serving; datasets that cannot be used make the job fail with a readable reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nats.aio.client import Client

from messages import (
    ErrorCode,
    ErrorMessage,
    JobRecord,
    JobState,
    RegisterAdapter,
    describe,
    encode,
    subjects,
    utc_timestamp,
)
from messages.adapters import AdapterMeta
from services.runtime import BUNDLED_MODEL_ID
from services.training import TrainingActor
from tests.support.training import (  # noqa: F401 - service is a fixture
    TINY,
    cancel,
    list_jobs,
    raw_submit,
    spec,
    submit,
    submitted,
    training,
    unique,
    wait_for,
)


def body(**fields: Any) -> bytes:
    base: dict[str, Any] = {"job_id": unique("job"), "adapter_name": unique("ok")}
    base.update(fields)
    return json.dumps(base).encode()


async def refused(nc: Client, payload: bytes, code: ErrorCode = ErrorCode.BAD_REQUEST) -> str:
    reply, flagged = await raw_submit(nc, payload)
    assert isinstance(reply, ErrorMessage), reply
    assert flagged, "micro error headers are set"
    assert reply.code is code, reply
    return describe(reply.message, reply.field)


@pytest.mark.parametrize("name", ["../x", "", "a" * 65, ".hidden", "a..b", "trailing.", "sp ace", "x/y", "é"])
async def test_bad_adapter_names(nc: Client, training_service: TrainingActor, name: str) -> None:
    message = await refused(nc, body(adapter_name=name))
    assert "`adapter_name` is not a valid adapter name" in message and "letters, digits" in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("num_samples", 0, "must be at least 1"),
        ("num_samples", -5, "must be at least 1"),
        ("num_samples", 100_001, "must be at most 100000"),
        ("num_epochs", 0, "must be greater than 0.0"),
        ("num_epochs", -1.5, "must be greater than 0.0"),
        ("num_epochs", 1000, "must be at most 100.0"),
        ("learning_rate", 0, "must be greater than 0.0"),
        ("learning_rate", -0.001, "must be greater than 0.0"),
        ("learning_rate", 5, "must be at most 1.0"),
        ("learning_rate", "nan", "must be a number"),
        ("lora_r", 0, "must be at least 1"),
        ("lora_r", 4096, "must be at most 256"),
        ("lora_alpha", 0, "must be at least 1"),
        ("lora_alpha", 1_000_000, "must be at most 1024"),
        ("max_steps", 0, "must be at least 1"),
        ("num_samples", 1.5, "must be a whole number"),
    ],
)
async def test_bad_numbers(
    nc: Client, training_service: TrainingActor, field: str, value: object, expected: str
) -> None:
    message = await refused(nc, body(**{field: value}))
    assert message.startswith(f"`{field}` ") and expected in message, message


async def test_nan_cannot_be_sent(nc: Client, training_service: TrainingActor) -> None:
    payload = body().replace(b"}", b', "learning_rate": NaN}')
    assert "malformed JSON" in await refused(nc, payload)
    payload = body().replace(b"}", b', "num_epochs": Infinity}')
    assert "malformed JSON" in await refused(nc, payload)
    payload = body().replace(b"}", b', "num_epochs": 1e999}')  # valid JSON, but no float holds it
    message = await refused(nc, payload)
    assert "out of range" in message and "`num_epochs`" in message


@pytest.mark.parametrize(
    ("dataset", "expected", "code"),
    [
        ("/no/such/file.jsonl", "outside the dataset folder", ErrorCode.BAD_REQUEST),
        ("./missing.json", "names no file in the dataset folder", ErrorCode.NOT_FOUND),
        ("missing.jsonl", "names no file in the dataset folder", ErrorCode.NOT_FOUND),
        ("/etc/hostname", "outside the dataset folder", ErrorCode.BAD_REQUEST),
        ("not a dataset!", "not a dataset name", ErrorCode.BAD_REQUEST),
        ("../../etc/passwd", "outside the dataset folder", ErrorCode.BAD_REQUEST),
        ("sub/../../x.jsonl", "outside the dataset folder", ErrorCode.BAD_REQUEST),
    ],
)
async def test_unknown_datasets(
    nc: Client, training_service: TrainingActor, dataset: str, expected: str, code: ErrorCode
) -> None:
    message = await refused(nc, body(dataset=dataset), code)
    assert message.startswith("`dataset` ") and expected in message and "bundled" in message, message


async def test_unknown_fields_and_malformed_bodies(nc: Client, training_service: TrainingActor) -> None:
    assert await refused(nc, body(batch=64)) == "`batch` is not something this request takes"
    assert "malformed JSON" in await refused(nc, b"{not json")
    assert "is required" in await refused(nc, b"")
    assert await refused(nc, json.dumps({"adapter_name": "x"}).encode()) == "`job_id` is required"
    assert (await refused(nc, body(job_id="../etc"))).startswith("`job_id` is not valid")


async def test_taken_names_and_ids_conflict(nc: Client, training_service: TrainingActor) -> None:
    # an adapter registered with the registry (files first, then register, as training does)
    name = unique("taken")
    store = await nc.jetstream().object_store(subjects.ADAPTER_FILES_BUCKET)
    await store.put(name, b"fake adapter files")
    meta = AdapterMeta(
        name=name, base_model=BUNDLED_MODEL_ID, created=utc_timestamp(), dataset="bundled", steps=1, size_bytes=0
    )
    registered = await nc.request(subjects.ADAPTERS_REGISTER, encode(RegisterAdapter(meta=meta)), timeout=10)
    assert b'"error"' not in registered.data
    message = await refused(nc, body(adapter_name=name), ErrorCode.CONFLICT)
    assert message.startswith("`adapter_name` is taken") and name in message and "exists already" in message
    # the registry's files were not touched
    assert (await store.get(name)).data == b"fake adapter files"

    # a job id used before
    job = spec(num_samples=16, num_epochs=100.0, max_steps=300)  # still running when cancelled below
    first = await submitted(nc, job)
    again = await submit(nc, spec(job_id=job.job_id))
    assert isinstance(again, ErrorMessage) and again.code is ErrorCode.CONFLICT and job.job_id in again.message
    # a name that a queued or running job is about to produce
    same_name = await submit(nc, spec(adapter_name=job.adapter_name))
    assert isinstance(same_name, ErrorMessage) and same_name.code is ErrorCode.CONFLICT
    assert "already training" in same_name.message
    await cancel(nc, first.spec.job_id)
    assert (await wait_for(nc, job.job_id, timeout=180)).state is JobState.CANCELLED


async def test_unusable_data_is_refused_before_queueing(nc: Client, training_service: TrainingActor) -> None:
    wrong = TINY.dataset_dir / "wrong.jsonl"
    wrong.write_text('{"question": "hi", "answer": "hello"}\n')
    message = await refused(nc, body(dataset=str(wrong)))
    assert message.startswith("`dataset` is in no known format") and "first row has answer, question" in message

    broken = TINY.dataset_dir / "broken.json"
    broken.write_text("[{")
    assert (await refused(nc, body(dataset=str(broken)))).startswith("`dataset` is not JSON or JSON Lines")

    (TINY.dataset_dir / "empty.jsonl").write_text("\n")
    assert "has no row" in await refused(nc, body(dataset="empty.jsonl"))


async def test_a_bad_row_further_in_fails_the_job_clearly(nc: Client, training_service: TrainingActor) -> None:
    """Only the first row is checked at submit; the loader reads the rest and the job says why it failed."""
    later = TINY.dataset_dir / "later.jsonl"
    later.write_text('{"instruction": "Say hi.", "output": "hi"}\n{not json\n')
    job = spec(dataset=str(later))
    await submitted(nc, job)
    done = await wait_for(nc, job.job_id, timeout=180)
    assert done.state is JobState.FAILED and done.error and "line 2: not JSON" in done.error


async def test_a_local_json_file_trains(nc: Client, training_service: TrainingActor) -> None:
    rows = [{"instruction": f"Say the number {i}.", "input": "", "output": f"{i}"} for i in range(6)]
    (TINY.dataset_dir / "mine").mkdir(exist_ok=True)
    data = TINY.dataset_dir / "mine" / "numbers.json"
    data.write_text(json.dumps(rows))
    job = spec(dataset="mine/numbers.json", num_samples=None, max_steps=1)  # named inside the dataset folder
    await submitted(nc, job)
    done = await wait_for(nc, job.job_id, timeout=240)
    assert done.state is JobState.SUCCEEDED, done.error
    assert done.total_steps == 1 and len(done.loss_history) == 1


async def test_an_unreachable_hub_dataset_is_refused_before_queueing(
    nc: Client, training_service: TrainingActor
) -> None:
    """No hub here (the tests' hub endpoint is a closed port): the id is refused at once, not failed later."""
    message = await refused(nc, body(dataset="switchboard-tests/no-such-dataset"), ErrorCode.OFFLINE)
    assert message.startswith("`dataset` cannot be checked") and "cannot be reached" in message


async def test_the_service_keeps_serving(nc: Client, training_service: TrainingActor) -> None:
    for payload in (b"\xff\xfe", b"[]", b"null", body(lora_r=-1)):
        await refused(nc, payload)
    jobs = await list_jobs(nc)
    assert all(isinstance(job, JobRecord) for job in jobs)
    created = [job.created for job in jobs]
    assert created == sorted(created, reverse=True)  # newest first
    # nothing that was refused became a job
    assert all(job.spec.adapter_name != "../x" for job in jobs)
