"""The CUDA path: QLoRA (4-bit base, paged 8-bit AdamW, batch 1 x 8 accumulated, gradient checkpointing)
with the GPU handoff to the inference service around it. The QLoRA tests skip without CUDA; the handoff
for a job whose worker died is plain NATS and runs everywhere."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import torch
from nats.aio.client import Client
from nats.aio.msg import Msg

from messages import GpuHandoff, JobRecord, JobState, decode, encode, subjects
from services.runtime import Settings, resolve_model
from services.training import JobStore, resolve_dataset
from services.training.trainer import CUDA_GRAD_ACCUM, Plan, _load_model, _optimizer, train
from tests.support.training import TINY, read_record, spec, submitted, trainer, training, wait_for

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CUDA = dataclasses.replace(TINY, device="cuda")


class FakeInference:
    """A real NATS responder on the GPU handoff subjects, recording what it was asked (in tests only)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, GpuHandoff]] = []

    @asynccontextmanager
    async def serving(self, nc: Client) -> AsyncIterator[FakeInference]:
        async def on_msg(msg: Msg) -> None:
            self.calls.append((msg.subject, decode(msg.data, GpuHandoff)))
            await msg.respond(b'{"type": "state", "state": "released"}')

        subs = [
            await nc.subscribe(s, cb=on_msg) for s in (subjects.INFERENCE_GPU_RELEASE, subjects.INFERENCE_GPU_RECLAIM)
        ]
        await nc.flush()
        try:
            yield self
        finally:
            for sub in subs:
                await sub.unsubscribe()

    def verbs(self, job_id: str) -> list[str]:
        return [subject.rsplit(".", 1)[-1] for subject, handoff in self.calls if handoff.job_id == job_id]


async def test_a_dead_workers_cuda_job_gives_the_gpu_back(nc: Client, base_settings: Settings) -> None:
    """A record left "running" on CUDA by a worker that is gone: marked failed, and its host's GPU reclaimed."""
    js = nc.jetstream()
    async with trainer(nc, base_settings):
        pass  # creates the bucket
    store = await JobStore.open(js, 3, logging.getLogger("test"))
    job = spec()
    stale = "2020-01-01T00:00:00.000000Z"
    await store.create(
        JobRecord(
            spec=job,
            state=JobState.RUNNING,
            created=stale,
            started=stale,
            heartbeat=stale,
            worker_id="gone-" + uuid.uuid4().hex[:6],
            host="gpu-host-7",
            device="cuda",
        )
    )
    inference = FakeInference()
    async with inference.serving(nc):
        async with trainer(nc, base_settings):
            failed = await read_record(nc, job.job_id)
            assert failed.state is JobState.FAILED
            assert failed.error is not None and "stopped during this job" in failed.error
            assert "gone-" not in failed.error and "worker" not in failed.error  # no internal ids for people
            await _until(lambda: inference.verbs(job.job_id) == ["reclaim"])
    [(_, handoff)] = [call for call in inference.calls if call[1].job_id == job.job_id]
    assert handoff.host == "gpu-host-7"


@needs_cuda
async def test_qlora_job_hands_the_gpu_over_and_back(nc: Client, base_settings: Settings, bundled_model: Path) -> None:
    inference = FakeInference()
    job = spec(num_samples=CUDA_GRAD_ACCUM, num_epochs=3.0, max_steps=3)
    async with inference.serving(nc):
        async with training(nc, base_settings, CUDA):
            await submitted(nc, job)
            done = await wait_for(nc, job.job_id, timeout=300)
    assert done.state is JobState.SUCCEEDED, done.error
    assert done.device == "cuda" and done.step == 3 and len(done.loss_history) == 3
    assert inference.verbs(job.job_id) == ["release", "reclaim"]


@needs_cuda
async def test_cancelled_qlora_job_gives_the_gpu_back(nc: Client, base_settings: Settings, bundled_model: Path) -> None:
    inference = FakeInference()
    job = spec(num_samples=64, num_epochs=100.0, max_steps=1000)
    async with inference.serving(nc):
        async with training(nc, base_settings, CUDA):
            await submitted(nc, job)
            await wait_for(nc, job.job_id, (JobState.RUNNING,), timeout=240, min_step=1)
            await nc.publish(subjects.train_cancel_subject(job.job_id), encode({"job_id": job.job_id}))
            done = await wait_for(nc, job.job_id, timeout=180)
    assert done.state is JobState.CANCELLED
    assert inference.verbs(job.job_id) == ["release", "reclaim"]


@needs_cuda
def test_qlora_loads_the_base_in_4bit_and_trains(bundled_model: Path) -> None:
    """The seed's recipe directly: nf4 weights, gradient checkpointing, paged 8-bit AdamW, 1 x 8 batches."""
    plan = Plan(
        spec=spec(num_samples=16, max_steps=2),
        source=resolve_dataset("bundled", TINY.dataset_dir),
        model=resolve_model(Settings(model_cache_dir=bundled_model.parent)),
        device="cuda",
        max_length=128,
        batch_size=4,
        seed=0,
    )
    assert plan.micro_batch == 1 and plan.grad_accum == 8
    model = _load_model(plan)
    kinds = {type(module).__name__ for module in model.modules()}
    assert "Linear4bit" in kinds, kinds  # the frozen base is in 4-bit
    assert model.base_model.model.is_gradient_checkpointing
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and all(p.dtype == torch.float32 for p in trainable)
    assert type(_optimizer(plan, trainable)).__name__ == "PagedAdamW8bit"
    del model
    torch.cuda.empty_cache()

    losses: list[float] = []

    class Hooks:
        def on_phase(self, phase: str) -> None:
            return None

        def on_total(self, total_steps: int, examples: int) -> None:
            assert total_steps == 2

        def on_step(self, step: int, loss: float) -> None:
            losses.append(loss)

    with tempfile.TemporaryDirectory() as out:
        result = train(plan, Hooks(), Path(out))
        assert (Path(out) / "adapter_model.safetensors").exists()
    assert result.steps == 2 and len(losses) == 2


async def _until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met"
        await asyncio.sleep(0.05)
