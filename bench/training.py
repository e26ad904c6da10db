"""Training and adapters: what the training service costs over a plain peft loop, and how long an
adapter switch takes on a live inference worker, in one run.

1. LoRA steps/s. The same fine-tune two ways, one after the other (never at the same time):

   * plain   -- this process loads the bundled model with transformers (float32), wraps it with peft
                (r=8, alpha=16, dropout 0.05, q/k/v/o), and runs AdamW (lr 2e-4) over the batches the
                service builds (`services.training.examples`: bundled set, 48 rows, max length 128, batch 4,
                seed 42), with the same grad clipping and linear schedule as the trainer.
   * service -- the registry (`AdaptersActor`) and a `TrainingActor` run in-process (as in the tests)
                on a fresh nats-server; a job (num_samples=48, max_steps=12) goes to `svc.training.submit`
                and its `train.progress.<job_id>` messages are timed as they arrive.

   steps/s = (steps - 1) / (time from step 1 to the last step): for both sides the first step (warm-up,
   lazy initialisation) only starts the clock; model loading is not measured.

2. Adapter switch. The registry and an `InferenceActor` (bundled model, empty ADAPTER_DIR) run
   in-process; adapters made with `services.runtime.testing.make_lora` are registered. Timed: from sending
   `svc.adapters.activate` (or `.deactivate`) to the first `svc.inference.info` (polled every 10 ms) that
   reports the new active adapter. "first load" = files fetched from the Object Store + peft load (three
   names, so three genuine first loads: the two LoRAs, the first registered a second time under another
   name); "loaded" = switching to an adapter the worker already holds; "deactivate" = back to base.
   Medians of 3.

Run: `.venv/bin/python -m bench.training`
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from nats.aio.client import Client

import nats
from bench._common import load_average, machine, median, nats_server, print_table, save_results, stop_on_sigterm
from messages import (
    ActivateAdapter,
    DeactivateAdapter,
    FineTuneSpec,
    GetJob,
    JobRecord,
    JobState,
    ModelInfo,
    Progress,
    decode,
    encode,
    subjects,
)
from services.adapters import AdaptersActor, AdaptersConfig
from services.inference import InferenceActor, InferenceConfig
from services.runtime import BUNDLED_MODEL_ID, Settings, call, resolve_model, running
from services.runtime.call import TRAINING
from services.runtime.testing import make_lora, register_adapter, until_answering
from services.training import TrainingActor, TrainingConfig
from services.training.examples import batches, load_rows, prepare
from services.training.render import Overlong
from services.training.sources import resolve_dataset
from services.training.trainer import LORA_TARGETS, MAX_GRAD_NORM

NUM_SAMPLES = 48
MAX_STEPS = 12
BATCH = 4
MAX_LENGTH = 128
LR = 2e-4
SEED = 42
POLL_S = 0.01
# the service's own per-step settings (heartbeat, KV write interval) as deployed; only a short idle fetch, so
# the job is picked up at once, and the fine-tune's shape differ from the defaults
CONFIG = TrainingConfig(max_length=MAX_LENGTH, batch_size=BATCH, device="cpu", seed=SEED, fetch_timeout_s=1.0)


def own_worker(settings: Settings) -> Settings:
    """`settings` with a worker id of its own (every actor in this process registers under its own id)."""
    return replace(settings, worker_id="w-" + uuid.uuid4().hex[:8])


@asynccontextmanager
async def registry(nc: Client, settings: Settings) -> AsyncIterator[AdaptersActor]:
    """The adapter registry (for the bundled model), in this process, once it answers `svc.adapters.list`."""
    settings = own_worker(settings)
    actor = AdaptersActor(settings, AdaptersConfig(base_model_id=BUNDLED_MODEL_ID))
    async with running(actor, settings):
        await until_answering(nc, subjects.ADAPTERS_LIST)
        yield actor


@asynccontextmanager
async def trainer(nc: Client, settings: Settings, config: TrainingConfig) -> AsyncIterator[TrainingActor]:
    """A training service in this process, once it answers `svc.training.jobs`."""
    settings = own_worker(settings)
    actor = TrainingActor(settings, config)
    async with running(actor, settings):
        await until_answering(nc, subjects.TRAINING_JOBS)
        yield actor


def plain_loop(model_dir: str) -> tuple[list[float], list[float]]:
    """The same fine-tune with transformers + peft directly; returns (step end times, losses)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(SEED)
    tokenizer: Any = AutoTokenizer.from_pretrained(model_dir)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    parsed = load_rows(resolve_dataset("bundled", Path(".")), NUM_SAMPLES, None)
    prepared = prepare(parsed.rows, [], parsed.format, tokenizer, MAX_LENGTH, Overlong.TRUNCATE)
    stream = batches(prepared.train, BATCH, int(pad_id or 0), SEED)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    base.config.use_cache = False
    config = LoraConfig(
        r=8, lora_alpha=16, lora_dropout=0.05, target_modules=LORA_TARGETS, bias="none", task_type="CAUSAL_LM"
    )
    model: Any = get_peft_model(base, config)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=LR)
    schedule = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=0, num_training_steps=MAX_STEPS)  # type: ignore[no-untyped-call]
    model.train()
    times: list[float] = []
    losses: list[float] = []
    for _ in range(MAX_STEPS):
        loss = model(**next(stream)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        times.append(time.perf_counter())
    return times, losses


def steps_per_s(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else math.nan


async def service_run(nc: Client, settings: Settings) -> tuple[list[float], list[float]]:
    """Submit one job to the in-process training service; returns (step arrival times, losses)."""
    job_id = f"bench-{uuid.uuid4().hex[:8]}"
    times: list[float] = []
    losses: list[float] = []
    done = asyncio.Event()

    async def on_msg(msg: Any) -> None:
        progress = decode(msg.data, Progress)
        if progress.state is JobState.RUNNING and progress.loss is not None:
            times.append(time.perf_counter())
            losses.append(progress.loss)
        if progress.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
            done.set()

    sub = await nc.subscribe(subjects.train_progress_subject(job_id), cb=on_msg)
    await nc.flush()
    spec = FineTuneSpec(
        job_id=job_id,
        adapter_name=f"bench-{job_id[-8:]}",
        num_samples=NUM_SAMPLES,
        max_steps=MAX_STEPS,
        validation_fraction=0.0,  # the plain loop evaluates nothing: the same work on both sides
    )
    async with trainer(nc, settings, CONFIG):
        await call(nc, subjects.TRAINING_SUBMIT, spec, JobRecord, timeout_s=20, peer=TRAINING)
        deadline = time.monotonic() + 90
        while not done.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} did not finish")
            await asyncio.sleep(0.1)
        record = await call(nc, subjects.TRAINING_JOB, GetJob(job_id=job_id), JobRecord, timeout_s=10, peer=TRAINING)
    await sub.unsubscribe()
    if record.state is not JobState.SUCCEEDED:
        raise RuntimeError(f"job {job_id} ended {record.state.value}: {record.error}")
    return times, losses


async def info(nc: Client) -> ModelInfo:
    return decode((await nc.request(subjects.INFERENCE_INFO, b"", timeout=5)).data, ModelInfo)


async def timed_switch(nc: Client, name: str | None, timeout: float = 60.0) -> float:
    """Milliseconds from sending activate/deactivate to `svc.inference.info` reporting `name` as active."""
    if name is None:
        subject, payload = subjects.ADAPTERS_DEACTIVATE, encode(DeactivateAdapter())
    else:
        subject, payload = subjects.ADAPTERS_ACTIVATE, encode(ActivateAdapter(name=name))
    start = time.perf_counter()
    reply = await nc.request(subject, payload, timeout=10)
    if b'"error"' in reply.data:
        raise RuntimeError(f"{subject} refused: {reply.data!r}")
    while (await info(nc)).active_adapter != name:
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"the worker never reported {name} as active")
        await asyncio.sleep(POLL_S)
    return (time.perf_counter() - start) * 1000


async def bench(runs: int) -> dict[str, Any]:
    base_settings = Settings.from_env()
    source = resolve_model(base_settings)
    model_dir = str(source.location)
    print(f"model: {source.model_id} ({source.location})")
    print(f"machine: {machine()}, torch threads: {torch.get_num_threads()}, load average: {load_average()}")
    print(
        f"fine-tune: bundled set, {NUM_SAMPLES} rows, {MAX_STEPS} steps of batch {BATCH}, max length {MAX_LENGTH}, "
        f"LoRA r=8 alpha=16 q/k/v/o, AdamW lr {LR:g}"
    )
    began = time.monotonic()

    with nats_server() as server, tempfile.TemporaryDirectory(prefix="sb-bench-train-") as tmp:
        root = Path(tmp)
        settings = replace(
            base_settings,
            nats_url=server.url,
            adapter_dir=root / "registry",
            connect_timeout_s=5,
            log_level="WARNING",
        )
        nc = await nats.connect(server.url)
        try:
            async with AsyncExitStack() as stack:
                await stack.enter_async_context(registry(nc, settings))
                # the two sides take turns, and which goes first alternates (A B, B A, ...): whatever the
                # machine does over time, or what one run leaves behind for the next, falls on both sides
                rates: dict[str, list[float]] = {"plain": [], "service": []}
                losses: dict[str, list[float]] = {"plain": [], "service": []}
                for run in range(runs):
                    for side in ("plain", "service") if run % 2 == 0 else ("service", "plain"):
                        if side == "plain":
                            times, losses[side] = await asyncio.to_thread(plain_loop, model_dir)
                        else:
                            times, losses[side] = await service_run(nc, settings)
                        rates[side].append(steps_per_s(times))
                        shown = " ".join(f"{x:.3f}" for x in losses[side])
                        print(f"  run {run + 1} {side:<7} {rates[side][-1]:.3f} steps/s, losses {shown}", flush=True)
                        await asyncio.sleep(1.0)
                if losses["plain"] != losses["service"]:
                    print("  WARNING: the two sides did not compute the same losses", flush=True)

                # adapter switch: three names, two distinct LoRAs (the third reuses the first's files)
                folders = [
                    await asyncio.to_thread(make_lora, Path(model_dir), root / f"lora-{seed}", seed) for seed in (0, 1)
                ]
                names = ["bench-a", "bench-b", "bench-a2"]
                for name, folder in zip(names, [folders[0], folders[1], folders[0]], strict=True):
                    await register_adapter(nc, name, folder)
                worker = replace(own_worker(settings), adapter_dir=root / "worker")
                await stack.enter_async_context(
                    running(InferenceActor(worker, InferenceConfig(max_loaded_adapters=4)), worker)
                )
                await until_answering(nc, subjects.INFERENCE_INFO, timeout_s=60)
                first: list[float] = []
                loaded: list[float] = []
                deactivate: list[float] = []
                for name in names:
                    first.append(await timed_switch(nc, name))
                    deactivate.append(await timed_switch(nc, None))
                await timed_switch(nc, names[-1])
                for name in names:  # each switch goes from another (loaded) adapter to a loaded one
                    loaded.append(await timed_switch(nc, name))
                await timed_switch(nc, None)
                print(f"  switch ms: first {first}, loaded {loaded}, deactivate {deactivate}", flush=True)
        finally:
            await nc.drain()

    plain_sps, svc_sps = median(rates["plain"]), median(rates["service"])
    print()
    print_table(
        ["LoRA training", "runs", f"median steps/s ({MAX_STEPS} steps)", "min", "max", "s/step"],
        [
            ["plain peft loop", runs, plain_sps, min(rates["plain"]), max(rates["plain"]), 1 / plain_sps],
            ["training service", runs, svc_sps, min(rates["service"]), max(rates["service"]), 1 / svc_sps],
        ],
    )
    print(
        f"service/plain steps/s: {svc_sps / plain_sps:.2f} (per run: "
        + ", ".join(f"{s / p:.2f}" for p, s in zip(rates["plain"], rates["service"], strict=True))
        + ")"
    )
    print()
    print_table(
        ["adapter switch", "median ms", "min ms", "max ms", "n"],
        [
            ["first load (Object Store + peft)", median(first), min(first), max(first), len(first)],
            ["switch to a loaded adapter", median(loaded), min(loaded), max(loaded), len(loaded)],
            ["deactivate (back to base)", median(deactivate), min(deactivate), max(deactivate), len(deactivate)],
        ],
    )
    print(f"load average after: {load_average()}, total {time.monotonic() - began:.0f} s")
    return {
        "training": {
            "plain": {"steps_s": rates["plain"], "losses": losses["plain"]},
            "service": {"steps_s": rates["service"], "losses": losses["service"]},
            "ratio_service_plain": svc_sps / plain_sps,
        },
        "switch_ms": {"first_load": first, "loaded": loaded, "deactivate": deactivate},
        "load_average": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="LoRA steps/s (service vs plain peft loop) and adapter switch time")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side, taking turns (default 3)")
    args = parser.parse_args()
    stop_on_sigterm()
    results = asyncio.run(bench(args.runs))
    print(f"saved {save_results('training', results)}")


if __name__ == "__main__":
    main()
