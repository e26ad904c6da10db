"""A small LoRA job on the bundled model runs to success over real NATS: its record, its progress, its
adapter registered and its files in the Object Store."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
from pathlib import Path

from nats.aio.client import Client

from messages import AdapterList, JobState, ListAdapters, decode, encode, subjects
from messages.adapters import AdapterReply
from services.runtime import BUNDLED_MODEL_ID, Settings
from services.runtime.adapter_files import unpack
from tests.support.training import (
    FINISHED,
    TINY,
    ProgressLog,
    get_job,
    queue_empty,
    spec,
    submitted,
    trainer,
    training,
    wait_for,
)


async def test_a_small_job_succeeds_and_registers_its_adapter(
    nc: Client, base_settings: Settings, bundled_model: Path, tmp_path: Path
) -> None:
    async with training(nc, base_settings):
        job = spec()
        progress = await ProgressLog.watch(nc, job.job_id)
        queued = await submitted(nc, job)
        assert queued.spec == job
        assert queued.state in (JobState.QUEUED, JobState.RUNNING)

        done = await wait_for(nc, job.job_id, timeout=180)
        assert done.state is JobState.SUCCEEDED, done.error
        assert done.adapter == job.adapter_name
        assert done.error is None
        assert done.step == done.total_steps == 3
        assert len(done.loss_history) == 3
        assert all(math.isfinite(loss) and loss > 0 for loss in done.loss_history)
        assert done.started and done.finished and done.created <= done.started <= done.finished
        assert done.device == "cpu" and done.queue_position is None and done.ack_subject is None

        # progress: running, one message per step with its loss, then succeeded
        assert progress.steps() == [1, 2, 3]
        assert progress.states()[-1] is JobState.SUCCEEDED
        assert JobState.RUNNING in progress.states()
        assert progress.seen[-1].adapter == job.adapter_name

        # the record is plain JSON in KV `training`, key `job.<id>`
        kv = await nc.jetstream().key_value(subjects.TRAINING_BUCKET)
        entry = await kv.get(f"job.{job.job_id}")
        assert json.loads(entry.value or b"")["state"] == "succeeded"

        # the registry lists it, with the job's numbers
        msg = await nc.request(subjects.ADAPTERS_LIST, encode(ListAdapters()), timeout=10)
        listed = decode(msg.data, AdapterReply)  # type: ignore[arg-type]
        assert isinstance(listed, AdapterList)
        [meta] = [a for a in listed.adapters if a.name == job.adapter_name]
        assert meta.base_model == BUNDLED_MODEL_ID
        assert meta.steps == 3 and meta.job_id == job.job_id and meta.dataset == "bundled"
        assert meta.final_loss == done.loss_history[-1]
        assert meta.lora_r == 8 and meta.lora_alpha == 16

        # one object in `adapter-files`, named like the adapter, that unpacks to a peft adapter
        store = await nc.jetstream().object_store(subjects.ADAPTER_FILES_BUCKET)
        result = await store.get(job.adapter_name)
        assert result.data and meta.size_bytes == len(result.data)
        folder = unpack(result.data, tmp_path / "adapter")
        names = {p.name for p in folder.iterdir()}
        assert {"adapter_config.json", "adapter_model.safetensors"} <= names
        config = json.loads((folder / "adapter_config.json").read_text())
        assert config["r"] == 8 and config["lora_alpha"] == 16
        assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
        assert config["base_model_name_or_path"] == BUNDLED_MODEL_ID

        # the message left the work queue
        assert await queue_empty(nc)


async def test_a_job_longer_than_the_ack_wait_is_not_redelivered(
    nc: Client, base_settings: Settings, bundled_model: Path
) -> None:
    """`in_progress` keeps the job message ours: a job far longer than `ack_wait` is not handed to the other
    worker that keeps asking for work meanwhile."""
    quick_ack = dataclasses.replace(TINY, ack_wait_s=2.0, heartbeat_s=0.5)
    async with training(nc, base_settings, quick_ack), trainer(nc, base_settings, quick_ack):
        job = spec(num_samples=8, num_epochs=3.0, max_steps=5)
        await submitted(nc, job)
        js = nc.jetstream()
        started = time.monotonic()
        redelivered = 0
        while (record := await get_job(nc, job.job_id)).state not in FINISHED:
            info = await js.consumer_info(subjects.TRAIN_JOBS_STREAM, subjects.TRAIN_CONSUMER)
            assert info.config.ack_wait == quick_ack.ack_wait_s
            redelivered = max(redelivered, info.num_redelivered or 0)
            await asyncio.sleep(0.2)
        assert record.state is JobState.SUCCEEDED, record.error
        assert time.monotonic() - started > 2 * quick_ack.ack_wait_s  # long enough to have been redelivered
        assert redelivered == 0
        assert await queue_empty(nc)
