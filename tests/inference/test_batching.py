"""The batched engine core on the bundled model, in-process: every request answers as it would alone (greedy text,
seeded samples), whether it arrives with others or joins a running batch; chunked prefill reads a long prompt
the same as in one piece; cancels and stop strings end only their own request; the KV cache budget refuses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from messages import ErrorCode, FinishReason, GenerateRequest, GenerationParams, SwitchboardError
from services.inference.batched import BatchedCore, BatchLimits
from services.inference.direct import TimedSink, run_direct
from services.inference.model_runner import Job, ModelRunner
from services.inference.sequential import SequentialCore
from services.runtime import ModelSource

PROMPTS = [
    "What is the capital of France?",
    "Write a long story about a dragon who learns to bake bread.",
    "Give me three names for a pet turtle.",
    "Explain what a message broker does.",
    "How do I boil an egg?",
    "Why is the sky blue?",
]


@pytest.fixture(scope="module")
def runner(bundled_model: Path) -> ModelRunner:
    return ModelRunner(ModelSource("bundled", str(bundled_model), True), load_in_4bit=False, hf_token=None)


@pytest.fixture(scope="module")
def batched(runner: ModelRunner) -> Iterator[BatchedCore]:
    core = BatchedCore(runner, BatchLimits(max_rows=16, prefill_chunk_tokens=256, kv_cache_bytes=2**30))
    yield core
    core.stop()


def request(prompt: str, **params: object) -> GenerateRequest:
    return GenerateRequest(request_id=f"t{time.monotonic_ns()}", prompt=prompt, params=GenerationParams(**params))  # type: ignore[arg-type]


def texts(sinks: list[TimedSink]) -> list[str]:
    return ["".join(s.parts) for s in sinks]


def alone(runner: ModelRunner, core: BatchedCore, req: GenerateRequest) -> str:
    return texts(run_direct(runner, core, [req]))[0]


def test_a_batch_answers_as_each_request_alone(runner: ModelRunner, batched: BatchedCore) -> None:
    lone = [alone(runner, batched, request(p, max_new_tokens=24)) for p in PROMPTS]
    together = texts(run_direct(runner, batched, [request(p, max_new_tokens=24) for p in PROMPTS]))
    assert together == lone
    assert "Paris" in lone[0]


def test_a_request_that_joins_a_running_batch_answers_as_alone(runner: ModelRunner, batched: BatchedCore) -> None:
    lone = alone(runner, batched, request(PROMPTS[2], max_new_tokens=20))
    long = TimedSink()
    batched.submit(runner.prepare(request(PROMPTS[1], max_new_tokens=60)), long)
    wait_until_sync(lambda: len(long.parts) >= 5)  # the long one is decoding
    (joined,) = run_direct(runner, batched, [request(PROMPTS[2], max_new_tokens=20)])
    long.finished.wait(60)
    assert "".join(joined.parts) == lone
    assert long.outcome is not None and long.outcome.completion_tokens == 60


def test_a_seeded_sample_is_its_own_among_sampled_neighbours(runner: ModelRunner, batched: BatchedCore) -> None:
    seeded = {"max_new_tokens": 24, "temperature": 0.9, "seed": 1234}
    lone = alone(runner, batched, request(PROMPTS[2], **seeded))
    again = alone(runner, batched, request(PROMPTS[2], **seeded))
    neighbours = [request(p, max_new_tokens=24, temperature=1.0) for p in PROMPTS[:3]]
    mixed = texts(run_direct(runner, batched, [*neighbours[:2], request(PROMPTS[2], **seeded), neighbours[2]]))
    assert lone == again == mixed[2]
    other_seed = alone(runner, batched, request(PROMPTS[2], max_new_tokens=24, temperature=0.9, seed=99))
    assert other_seed != lone, "a different seed draws differently"


def test_chunked_prefill_reads_a_long_prompt_as_one_piece(runner: ModelRunner, batched: BatchedCore) -> None:
    prompt = "Here is a list of facts. " + " ".join(f"Fact {i}: the number {i} is {i * 7}." for i in range(40))
    chunked = BatchedCore(runner, BatchLimits(max_rows=4, prefill_chunk_tokens=16, kv_cache_bytes=2**30))
    try:
        in_chunks = alone(runner, chunked, request(prompt, max_new_tokens=12))
    finally:
        chunked.stop()
    assert runner.prepare(request(prompt)).prompt_tokens > 300  # at least 19 chunks of 16
    assert in_chunks == alone(runner, batched, request(prompt, max_new_tokens=12))


def test_a_long_prompt_does_not_stall_the_batch(runner: ModelRunner, batched: BatchedCore) -> None:
    """While a 1,500-token prompt is read (256 tokens a step), the running request keeps decoding."""
    running = TimedSink()
    batched.submit(runner.prepare(request(PROMPTS[1], max_new_tokens=300)), running)
    wait_until_sync(lambda: len(running.parts) >= 3)
    prompt = " ".join(f"Sentence number {i} says something about the weather." for i in range(150))
    long = runner.prepare(request(prompt, max_new_tokens=4))
    assert long.prompt_tokens > 1500
    before = len(running.parts)
    reader = TimedSink()
    batched.submit(long, reader)
    wait_until_sync(lambda: reader.first_ns is not None or reader.finished.is_set(), timeout=120)
    during = len(running.parts) - before
    assert reader.finished.wait(60)
    assert running.finished.wait(120)
    assert during >= 4, f"only {during} tokens of the running answer while the long prompt was read"


def test_cancel_and_stop_strings_end_only_their_own_request(runner: ModelRunner, batched: BatchedCore) -> None:
    lone = [alone(runner, batched, request(p, max_new_tokens=30)) for p in PROMPTS[2:]]
    stopper = request(PROMPTS[0], max_new_tokens=30, stop=["Paris"])
    cancelled = runner.prepare(request(PROMPTS[1], max_new_tokens=400))
    sink = TimedSink()
    batched.submit(cancelled, sink)
    others = [TimedSink() for _ in PROMPTS[2:]]
    stop_sink = TimedSink()
    batched.submit(runner.prepare(stopper), stop_sink)
    for prompt, other in zip(PROMPTS[2:], others, strict=True):
        batched.submit(runner.prepare(request(prompt, max_new_tokens=30)), other)
    wait_until_sync(lambda: len(sink.parts) >= 3)
    cancelled.cancel.set()
    batched.wake()
    assert sink.finished.wait(10)
    for other in [stop_sink, *others]:
        assert other.finished.wait(60)
    assert sink.outcome is not None and sink.outcome.finish_reason is FinishReason.CANCELLED
    assert sink.outcome.completion_tokens < 40
    assert stop_sink.outcome is not None and stop_sink.outcome.finish_reason is FinishReason.STOP_STRING
    assert "".join(stop_sink.parts) == "The capital of France is "
    assert texts(others) == lone


def test_a_cancel_is_honoured_before_the_first_token(runner: ModelRunner) -> None:
    """A long prompt is read in chunks, so a cancel lands within one chunk, not after the whole prefill."""
    core = BatchedCore(runner, BatchLimits(max_rows=2, prefill_chunk_tokens=32, kv_cache_bytes=2**30))
    try:
        prompt = " ".join(f"Sentence number {i} says something about the weather." for i in range(150))
        job = runner.prepare(request(prompt, max_new_tokens=8))
        assert job.prompt_tokens > 1500
        sink = TimedSink()
        core.submit(job, sink)
        time.sleep(0.3)
        job.cancel.set()
        core.wake()
        began = time.monotonic()
        assert sink.finished.wait(10)
        assert time.monotonic() - began < 2.0, "one 32-token chunk, not a 1,500-token prefill"
        assert sink.outcome is not None and sink.outcome.finish_reason is FinishReason.CANCELLED
        assert sink.parts == []
    finally:
        core.stop()


def test_the_kv_cache_budget_says_busy_or_too_big(runner: ModelRunner) -> None:
    core = BatchedCore(runner, BatchLimits(max_rows=8, prefill_chunk_tokens=256, kv_cache_bytes=2**20 * 16))
    try:
        small = runner.prepare(request("Hi", max_new_tokens=100))
        huge = runner.prepare(request("Hi", max_new_tokens=8000))
        with pytest.raises(SwitchboardError) as too_big:
            core.check_room(huge, [])
        assert too_big.value.code is ErrorCode.BAD_REQUEST and "INFERENCE_KV_CACHE_MB" in too_big.value.message
        core.check_room(small, [])
        admitted: list[Job] = []
        with pytest.raises(SwitchboardError) as busy:
            for _ in range(20):
                core.check_room(small, admitted)
                admitted.append(small)
        assert busy.value.code is ErrorCode.BUSY
        assert 1 <= len(admitted) < 20
    finally:
        core.stop()


def test_a_long_request_refused_for_room_is_not_starved_by_short_ones(runner: ModelRunner) -> None:
    """Found by a new user: under a stream of short chats, a long conversation got BUSY for 60 s although it
    fits alone. A request refused for KV room now holds a reservation that later ones cannot take."""
    token_bytes = 30 * 2 * 3 * 64 * 4  # the bundled model's KV bytes per token in float32
    core = BatchedCore(runner, BatchLimits(max_rows=8, prefill_chunk_tokens=256, kv_cache_bytes=400 * token_bytes))
    try:
        short = [runner.prepare(request("Hi", max_new_tokens=100)) for _ in range(3)]
        long = runner.prepare(request("Hi", max_new_tokens=300))
        core.check_room(short[1], [short[0]])  # two short ones fit (2 x ~130 tokens)
        with pytest.raises(SwitchboardError) as refused:
            core.check_room(long, [short[0]])  # 2 x ~330 > 400
        assert refused.value.code is ErrorCode.BUSY
        with pytest.raises(SwitchboardError) as held:
            core.check_room(short[2], [short[0]])  # would fit, but the long one waits first
        assert held.value.code is ErrorCode.BUSY
        core.check_room(long, [])  # the short one ended: the long one gets in
        core.check_room(short[2], [])  # and the reservation is gone
    finally:
        core.stop()


def test_adapters_per_row_in_one_batch(runner: ModelRunner, batched: BatchedCore, tmp_path: Path) -> None:
    """Two LoRA adapters and the base model in one batch: each row equals its lone answer."""
    from services.runtime.testing import make_lora

    folders = [make_lora(Path(runner.source.location), tmp_path / f"a{seed}", seed) for seed in (1, 2)]
    for key, folder in zip(("t-a", "t-b"), folders, strict=True):
        batched.between_steps(lambda key=key, folder=folder: runner.load_adapter(key, folder)).result(30)
    try:

        def job(key: str | None) -> Job:
            prepared = runner.prepare(request("Who are you?", max_new_tokens=16))
            prepared.adapter_key = key
            return prepared

        lone = {}
        for key in (None, "t-a", "t-b"):
            sink = TimedSink()
            batched.submit(job(key), sink)
            assert sink.finished.wait(60)
            lone[key] = "".join(sink.parts)
        assert len(set(lone.values())) == 3, "the adapters change the answer"
        sinks = {key: TimedSink() for key in ("t-b", None, "t-a")}
        for key, sink in sinks.items():
            batched.submit(job(key), sink)
        for key, sink in sinks.items():
            assert sink.finished.wait(60)
            assert "".join(sink.parts) == lone[key], key
    finally:
        for key in ("t-a", "t-b"):
            batched.between_steps(lambda key=key: runner.unload_adapter(key)).result(30)


def test_the_sequential_engine_still_answers(runner: ModelRunner) -> None:
    core = SequentialCore(runner)
    try:
        (sink,) = run_direct(runner, core, [request(PROMPTS[0], max_new_tokens=16)])
        assert "Paris" in "".join(sink.parts)
        assert sink.outcome is not None and sink.outcome.finish_reason is FinishReason.STOP
    finally:
        core.stop()


def wait_until_sync(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)
