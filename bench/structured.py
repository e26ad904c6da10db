"""Structured output: what the grammar's per-row mask costs a full batch, in one run.

The same 16 prompts, 16 requests at once on the batched engine core in this process (`services.inference.
direct.run_direct`: the worker's engine without NATS), greedy, `--max-new-tokens` 48:

* free -- no constraint.
* json -- every request with the same 20-property JSON Schema (`constraint: {"type": "json", "schema": ...}`):
          compiled once (the compiler caches it), each row masked by its own matcher before every pick.

The two are run alternately `--runs` times (never at the same time: the CPU is shared) after one warm-up
each; tok/s = completion tokens of all 16 / wall time from submitting to the last answer's end; medians
reported, and json / free (the target: at least 0.8). Most answers end at the length limit (20 fields take
more than 48 tokens): the figure is decode speed, and the table says how many ended on their own and parse. Before that, the first-use compile time of the
20-property schema on the worker's compiler, and the same schema compiled again (a cache hit).

Run: `.venv/bin/python -m bench.structured [--runs 3] [--max-new-tokens 48]`
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

import torch

from bench._common import load_average, machine, median, print_table, save_results, stop_on_sigterm
from messages import FinishReason, GenerateRequest, GenerationParams, JsonConstraint
from services.inference.batched import BatchedCore, BatchLimits
from services.inference.direct import run_direct
from services.inference.model_runner import ModelRunner
from services.runtime import Settings, resolve_model

ROWS = 16
SUBJECTS = [
    "a librarian",
    "a sailor",
    "a baker",
    "a pilot",
    "a gardener",
    "a painter",
    "a teacher",
    "a doctor",
    "a farmer",
    "a chemist",
    "a poet",
    "a plumber",
    "a judge",
    "a chef",
    "a miner",
    "a dancer",
]
PROMPTS = [f"Describe {who} as a JSON record." for who in SUBJECTS]
FIELD_TYPES = ["string", "integer", "boolean", "number"]


def schema_of(properties: int, salt: str = "") -> dict[str, Any]:
    """An object schema of `properties` typed fields, the first four required (`salt` makes it a new one)."""
    names = [f"field{salt}_{i}" for i in range(properties)]
    return {
        "type": "object",
        "properties": {name: {"type": FIELD_TYPES[i % len(FIELD_TYPES)]} for i, name in enumerate(names)},
        "required": names[:4],
    }


def requests(schema: dict[str, Any] | None, max_new_tokens: int) -> list[GenerateRequest]:
    return [
        GenerateRequest(
            request_id=uuid.uuid4().hex,
            prompt=prompt,
            constraint=JsonConstraint(schema) if schema is not None else None,
            params=GenerationParams(max_new_tokens=max_new_tokens),
        )
        for prompt in PROMPTS
    ]


def run(runner: ModelRunner, core: BatchedCore, schema: dict[str, Any] | None, max_new_tokens: int) -> dict[str, Any]:
    began = time.perf_counter()
    sinks = run_direct(runner, core, requests(schema, max_new_tokens))
    wall = time.perf_counter() - began
    tokens = sum(sink.tokens for sink in sinks)
    stopped = [sink for sink in sinks if sink.outcome is not None and sink.outcome.finish_reason is FinishReason.STOP]
    parsed = 0
    for sink in stopped:
        try:
            json.loads("".join(sink.parts))
            parsed += 1
        except ValueError:
            pass
    return {"tok_s": tokens / wall, "tokens": tokens, "wall_s": wall, "stopped": len(stopped), "parsed": parsed}


def bench(runs: int, max_new_tokens: int) -> dict[str, Any]:
    began = time.monotonic()
    source = resolve_model(Settings.from_env())
    print(f"model: {source.model_id}; machine: {machine()}, torch threads: {torch.get_num_threads()}")
    print(f"load average: {load_average()}; {ROWS} requests at once, greedy, max_new_tokens={max_new_tokens}")
    runner = ModelRunner(source, load_in_4bit=False, hf_token=None)
    core = BatchedCore(runner, BatchLimits(max_rows=ROWS, prefill_chunk_tokens=256, kv_cache_bytes=2**31))
    try:
        fresh = schema_of(20, salt=uuid.uuid4().hex[:6])
        t0 = time.perf_counter()
        runner.grammars.compile(JsonConstraint(fresh))
        first_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        runner.grammars.compile(JsonConstraint(fresh))
        cached_ms = (time.perf_counter() - t0) * 1000
        print(f"20-property schema: first compile {first_ms:.1f} ms, cached {cached_ms:.2f} ms")

        schema = schema_of(20)
        run(runner, core, None, max_new_tokens)  # warm-ups
        run(runner, core, schema, max_new_tokens)
        results: dict[str, list[dict[str, Any]]] = {"free": [], "json": []}
        for index in range(runs):
            for name, which in (("free", None), ("json", schema)):
                time.sleep(0.5)
                results[name].append(run(runner, core, which, max_new_tokens))
                r = results[name][-1]
                print(f"run {index + 1} {name}: {r['tok_s']:.1f} tok/s ({r['tokens']} tokens, {r['wall_s']:.1f} s)")
    finally:
        core.stop()
    medians = {
        name: {key: median([r[key] for r in rs]) for key in ("tok_s", "tokens", "wall_s")}
        for name, rs in results.items()
    }
    ratio = medians["json"]["tok_s"] / medians["free"]["tok_s"]
    print()
    print_table(
        ["requests", "tok/s", "tokens", "wall s", "ended (stop), of which JSON"],
        [
            [
                name,
                m["tok_s"],
                int(m["tokens"]),
                m["wall_s"],
                f"{results[name][-1]['stopped']}/{ROWS}, {results[name][-1]['parsed']}",
            ]
            for name, m in medians.items()
        ],
    )
    print(f"tok/s json-schema / free = {ratio:.3f} (target >= 0.8)")
    print(f"load average after: {load_average()}; wall time: {time.monotonic() - began:.0f} s")
    return {
        "max_new_tokens": max_new_tokens,
        "compile_first_ms": first_ms,
        "compile_cached_ms": cached_ms,
        "runs": results,
        "medians": medians,
        "ratio_json_over_free": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="measured runs per kind, alternating (default 3)")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    args = parser.parse_args()
    stop_on_sigterm()
    data = bench(args.runs, args.max_new_tokens)
    print(f"saved: {save_results('structured', data)}")


if __name__ == "__main__":
    main()
