"""Single-GPU handoff: training asks the inference worker on its host to release the GPU and to reclaim it.
On CPU nothing moves; the CUDA path runs only where a GPU is present."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import torch
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeout

from messages import Accept, ErrorCode, ErrorMessage, GpuHandoff, ModelInfo, decode, encode, subjects
from services.inference import InferenceActor, InferenceConfig
from services.runtime import Settings, running
from tests.conftest import worker_settings
from tests.support.nats_client import generate


@pytest.fixture(scope="module")
async def worker(base_settings: Settings, tiny_model: Path) -> AsyncIterator[Settings]:
    settings = worker_settings(base_settings, model_id=str(tiny_model))
    async with running(InferenceActor(settings, InferenceConfig(max_concurrency=1)), settings):
        yield settings


async def handoff(nc: Client, subject: str, host: str = socket.gethostname()) -> ModelInfo:
    reply = await nc.request(subject, encode(GpuHandoff(host=host, job_id="job1")), timeout=30)
    return decode(reply.data, ModelInfo)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU path")
async def test_on_cpu_nothing_moves(nc: Client, worker: Settings) -> None:
    assert (await handoff(nc, subjects.INFERENCE_GPU_RELEASE)).state == "ready"
    reply, chunks = await generate(nc, "one two", max_new_tokens=3)
    assert isinstance(reply, Accept) and chunks[-1].done
    assert (await handoff(nc, subjects.INFERENCE_GPU_RECLAIM)).state == "ready"


async def test_other_hosts_ignore_it(nc: Client, worker: Settings) -> None:
    with pytest.raises(NatsTimeout):
        await nc.request(subjects.INFERENCE_GPU_RELEASE, encode(GpuHandoff(host="another-host", job_id="j")), timeout=1)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
async def test_release_frees_the_gpu_and_reclaim_restores_it(nc: Client, worker: Settings) -> None:
    before = torch.cuda.memory_allocated(0)
    released = await handoff(nc, subjects.INFERENCE_GPU_RELEASE)
    assert released.state == "released"
    assert torch.cuda.memory_allocated(0) < before
    refused, _ = await generate(nc, "one two", max_new_tokens=3)
    assert isinstance(refused, ErrorMessage) and refused.code is ErrorCode.UNAVAILABLE
    assert "lent to fine-tuning job job1" in refused.message
    assert (await handoff(nc, subjects.INFERENCE_GPU_RECLAIM)).state == "ready"
    reply, chunks = await generate(nc, "one two", max_new_tokens=3)
    assert isinstance(reply, Accept) and chunks[-1].done
