"""`python -m services.training` as a real process: killed mid-job (SIGKILL), the next one takes the job up
again from its last checkpoint and finishes it, redoing fewer steps than a checkpoint interval, its loss
curve going on where it was; a client following the job's progress hears of the death within seconds;
stopped with SIGTERM mid-job, it records the job as failed and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nats.aio.client import Client

from messages import JobRecord, JobState, subjects
from services.runtime import Settings
from services.runtime.testing import until_answering
from tests.conftest import REPO, worker_settings
from tests.support.gateway import gateway
from tests.support.graphql_client import Subscription
from tests.support.training import (
    TINY,
    queue_empty,
    read_record,
    registry,
    spec,
    submitted,
    trainer,
    wait_for,
)

LONG = {"num_samples": 16, "num_epochs": 100.0, "max_steps": 1000}


@contextmanager
def training_process(base: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "NATS_URL": base.nats_url,
        "MODEL_CACHE_DIR": str(base.model_cache_dir),
        "WORKER_ID": "proc-" + uuid.uuid4().hex[:6],
        "TRAIN_DEVICE": "cpu",
        "TRAIN_MAX_LENGTH": str(TINY.max_length),
        "TRAIN_HEARTBEAT_S": str(TINY.heartbeat_s),
        "TRAIN_ACK_WAIT_S": str(TINY.ack_wait_s),
        "TRAIN_FETCH_TIMEOUT_S": str(TINY.fetch_timeout_s),
        "TRAIN_STOP_GRACE_S": "60",  # a step on a loaded machine can take tens of seconds: let it end
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("MODEL_ID", None)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.training"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


async def test_a_killed_training_service_job_resumes_from_its_checkpoint(
    nc: Client, base_settings: Settings, bundled_model: Path, tmp_path: Path
) -> None:
    log = tmp_path / "training.log"
    every = 3
    job = spec(num_samples=16, num_epochs=100.0, max_steps=14, checkpoint_every_steps=every)
    with training_process(base_settings, log) as first:
        await until_answering(nc, subjects.TRAINING_JOBS, timeout_s=60)
        await submitted(nc, job)
        await wait_for(nc, job.job_id, (JobState.RUNNING,), timeout=180, min_step=every + 1)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    before = await read_record(nc, job.job_id)
    assert before.state is JobState.RUNNING and before.checkpoint_step is not None, log.read_text()[-3000:]
    killed_at, checkpoint = before.step, before.checkpoint_step

    started = time.monotonic()
    async with registry(nc, base_settings):  # the finished adapter is registered
        with training_process(base_settings, log) as second:
            await until_answering(nc, subjects.TRAINING_JOBS, timeout_s=60)
            done = await wait_for(nc, job.job_id, timeout=240)
            took = time.monotonic() - started
            assert done.state is JobState.SUCCEEDED, (done.error, log.read_text()[-3000:])
            assert done.adapter == job.adapter_name and done.resumes == 1
            assert done.resumed_from_step == checkpoint
            redone = killed_at - checkpoint
            print(
                f"killed at step {killed_at}, resumed from step {checkpoint}: {redone} step(s) redone, done in {took:.1f}s"
            )
            assert redone <= every, "at most one checkpoint interval is trained twice"
            # the curve goes on where it was: one loss per step, the ones before the checkpoint kept as they were
            assert done.step == done.total_steps == 14 and len(done.loss_history) == 14
            assert done.loss_history[:checkpoint] == before.loss_history[:checkpoint]
            assert await queue_empty(nc, timeout=5)
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0, log.read_text()[-3000:]


async def test_sigterm_mid_job_hands_it_back_and_the_next_service_finishes_it(
    nc: Client, base_settings: Settings, bundled_model: Path, tmp_path: Path
) -> None:
    """A stop (SIGTERM, `just down`, a rolling restart) saves a checkpoint of the last step and gives the job back
    to the queue; the next service goes on from that step, redoing nothing."""
    log = tmp_path / "training.log"
    job = spec(num_samples=16, num_epochs=100.0, max_steps=10)
    with training_process(base_settings, log) as proc:
        await until_answering(nc, subjects.TRAINING_JOBS, timeout_s=60)
        await submitted(nc, job)
        await wait_for(nc, job.job_id, (JobState.RUNNING,), timeout=180, min_step=2)
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(90) == 0, log.read_text()[-3000:]
        assert time.monotonic() - stopped_at < 75  # within a step (the stop grace is 60 s here)
    handed = await read_record(nc, job.job_id)
    assert handed.state is JobState.QUEUED, (handed.error, log.read_text()[-3000:])
    assert handed.checkpoint_step is not None and handed.checkpoint_step == handed.step >= 2
    assert handed.error is not None and f"goes on from step {handed.step}" in handed.error
    assert not await queue_empty(nc, timeout=1), "its message waits for the next worker"

    async with registry(nc, base_settings):
        with training_process(base_settings, log) as second:
            done = await wait_for_record(nc, job.job_id, timeout=240)
            assert done.state is JobState.SUCCEEDED, (done.error, log.read_text()[-3000:])
            assert done.resumed_from_step == handed.step and done.resumes == 0
            assert done.step == 10 and len(done.loss_history) == 10
            assert done.loss_history[: handed.step] == handed.loss_history[: handed.step]
            assert await queue_empty(nc, timeout=5)
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0, log.read_text()[-3000:]


async def wait_for_record(nc: Client, job_id: str, timeout: float) -> JobRecord:
    """Poll KV `training` until the job has finished (no service needs to answer)."""
    deadline = time.monotonic() + timeout
    while True:
        record = await read_record(nc, job_id)
        if record.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED) or time.monotonic() > deadline:
            return record
        await asyncio.sleep(0.2)


PROGRESS = "subscription($id: String!) { fineTuneProgress(jobId: $id) { state step error } }"


async def test_a_progress_stream_hears_of_a_killed_training_service_within_seconds(
    nc: Client, base_settings: Settings, bundled_model: Path, tmp_path: Path
) -> None:
    """With no training service left, the stream ends UNAVAILABLE within seconds (not silence); once one runs
    again, the job reads as failed."""
    log = tmp_path / "training.log"
    job = spec(**LONG)
    async with gateway(worker_settings(base_settings)) as url:
        with training_process(base_settings, log) as proc:
            await until_answering(nc, subjects.TRAINING_JOBS, timeout_s=60)
            await submitted(nc, job)
            await wait_for(nc, job.job_id, (JobState.RUNNING,), timeout=180, min_step=1)
            async with Subscription(url, PROGRESS, {"id": job.job_id}) as stream:
                events = []
                async for message in stream.messages(timeout=60):
                    events.append(message)
                    if len(events) == 1:
                        proc.send_signal(signal.SIGKILL)
                        killed_at = time.monotonic()
                took = time.monotonic() - killed_at
        error = events[-1]["errors"][0]
        print(f"training killed: the progress stream ended {error['extensions']['code']} after {took:.2f}s")
        assert error["extensions"]["code"] == "UNAVAILABLE" and "training service" in error["message"]
        assert took < 10.0
        async with trainer(nc, base_settings):  # a training service runs again: it takes the job up again
            taken = await wait_for(nc, job.job_id, (JobState.QUEUED, JobState.RUNNING), timeout=60)
            assert taken.resumes == 1  # queued ("taken up again from step 0"), or running again already
            assert taken.state is JobState.RUNNING or (taken.error and "taken up again" in taken.error)
            await nc.publish(subjects.train_cancel_subject(job.job_id), b"")
            assert (await wait_for(nc, job.job_id, timeout=120)).state is JobState.CANCELLED
