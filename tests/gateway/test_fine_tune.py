"""A fine-tune through GraphQL end to end: startFineTune, fineTuneProgress to completion, fineTuneStatus and
fineTuneJobs report it, the adapter is listed, loadAdapter switches the live model, useBaseModel reverts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import nats
from services.runtime import Settings
from tests.conftest import NatsServer
from tests.support.gateway import stack
from tests.support.graphql_client import Subscription, post
from tests.support.training import training

PROGRESS = "subscription($id: String!) { fineTuneProgress(jobId: $id) { state step totalSteps loss adapter error } }"


@pytest.fixture(scope="module")
async def url(own_nats: NatsServer, own_settings: Settings, bundled_model: object) -> AsyncIterator[str]:
    nc = await nats.connect(own_nats.url)
    async with training(nc, own_settings), stack(own_settings) as graphql_url:
        yield graphql_url
    await nc.drain()


async def test_fine_tune_then_switch(url: str) -> None:
    body = await post(
        url,
        'mutation { startFineTune(adapterName: "e2e-lora", numSamples: 8, maxSteps: 3) { ok error jobId queuePosition } }',
    )
    started = body["data"]["startFineTune"]
    assert started["ok"] is True, started
    job_id = started["jobId"]

    async with Subscription(url, PROGRESS, {"id": job_id}) as sub:
        updates = [m["data"]["fineTuneProgress"] async for m in sub.messages(timeout=280)]
    assert updates[-1]["state"] == "succeeded", updates[-1]
    assert updates[-1]["adapter"] == "e2e-lora"
    steps = [u["step"] for u in updates if u["loss"] is not None]
    assert len(steps) >= 2 and steps == sorted(steps), updates
    total = updates[-1]["totalSteps"]
    assert 1 <= total <= 3 and updates[-1]["step"] == total, "8 samples in batches of 4, capped at 3 steps"

    # a page opened now starts from the job's current (final) state
    async with Subscription(url, PROGRESS, {"id": job_id}) as sub:
        again = [m["data"]["fineTuneProgress"] async for m in sub.messages(timeout=10)]
    assert [u["state"] for u in again] == ["succeeded"]

    status = (await post(url, "{ fineTuneStatus { running step totalSteps loss error completedAdapter } }"))["data"]
    assert status["fineTuneStatus"]["running"] is False
    assert status["fineTuneStatus"]["completedAdapter"] == "e2e-lora"
    jobs = (await post(url, "{ fineTuneJobs { jobId state lossHistory finalLoss } }"))["data"]["fineTuneJobs"]
    (job,) = [j for j in jobs if j["jobId"] == job_id]
    assert (
        job["state"] == "succeeded" and len(job["lossHistory"]) == total and job["finalLoss"] == job["lossHistory"][-1]
    )

    assert "e2e-lora" in (await post(url, "{ adapters { available } }"))["data"]["adapters"]["available"]
    loaded = await post(url, 'mutation { loadAdapter(adapterName: "e2e-lora") { ok error activeAdapter } }')
    assert loaded["data"]["loadAdapter"] == {"ok": True, "error": None, "activeAdapter": "e2e-lora"}
    assert (await post(url, "{ modelInfo { activeAdapter } }"))["data"]["modelInfo"]["activeAdapter"] == "e2e-lora"
    reverted = await post(url, "mutation { useBaseModel { ok activeAdapter } }")
    assert reverted["data"]["useBaseModel"] == {"ok": True, "activeAdapter": None}

    # cancelling a finished job says so
    late = await post(url, f'mutation {{ cancelFineTune(jobId: "{job_id}") {{ ok error errorCode }} }}')
    assert late["data"]["cancelFineTune"]["ok"] is False
    assert late["data"]["cancelFineTune"]["errorCode"] == "CONFLICT"
    assert "already succeeded" in late["data"]["cancelFineTune"]["error"]

    # the finished job can leave the history; its adapter stays
    deleted = await post(url, f'mutation {{ deleteFineTuneJob(jobId: "{job_id}") {{ ok error jobId }} }}')
    assert deleted["data"]["deleteFineTuneJob"] == {"ok": True, "error": None, "jobId": job_id}
    jobs = (await post(url, "{ fineTuneJobs { jobId } }"))["data"]["fineTuneJobs"]
    assert job_id not in [j["jobId"] for j in jobs]
    assert "e2e-lora" in (await post(url, "{ adapters { available } }"))["data"]["adapters"]["available"]
    again = await post(url, f'mutation {{ deleteFineTuneJob(jobId: "{job_id}") {{ ok errorCode }} }}')
    assert again["data"]["deleteFineTuneJob"] == {"ok": False, "errorCode": "NOT_FOUND"}


async def test_bad_fine_tune_input_is_a_clear_error(url: str) -> None:
    for args, words in [
        ('adapterName: "../x"', "adapter"),
        ('adapterName: "ok-name", learningRate: -1', "`learningRate` must be greater than 0.0"),
        ('adapterName: "ok-name", numEpochs: 0', "`numEpochs` must be greater than 0.0"),
        ('adapterName: "ok-name", datasetName: "/no/such/file.jsonl"', "no/such/file.jsonl"),
    ]:
        result = (await post(url, f"mutation {{ startFineTune({args}) {{ ok error errorCode jobId }} }}"))["data"][
            "startFineTune"
        ]
        assert result["ok"] is False and result["jobId"] is None, result
        assert words in result["error"], result
    body = await post(url, 'mutation { cancelFineTune(jobId: "nope") { ok error errorCode } }')
    assert body["data"]["cancelFineTune"]["ok"] is False


@pytest.mark.parametrize("job_id", ["../x", "a b", "", "j.>"])
async def test_progress_of_an_id_that_cannot_be_a_job_is_bad_input(url: str, job_id: str) -> None:
    async with Subscription(url, PROGRESS, {"id": job_id}) as sub:
        messages = [m async for m in sub.messages(timeout=30)]
    assert messages and messages[0]["errors"][0]["extensions"]["code"] == "BAD_REQUEST", messages


async def test_progress_of_an_unknown_job_is_not_found(url: str) -> None:
    async with Subscription(url, PROGRESS, {"id": "0" * 32}) as sub:
        messages = [m async for m in sub.messages(timeout=30)]
    assert messages[0]["errors"][0]["extensions"]["code"] == "NOT_FOUND", messages
