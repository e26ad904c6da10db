"""End to end: what the NATS + gateway path costs over calling the model directly, in one run.

Two ways to get the same greedy answer from the bundled model (SmolLM2-135M-Instruct):

* direct  -- this process loads the model with `services.inference.model_runner.ModelRunner`, calls
             `ModelRunner.prepare` and runs the job on `BatchedCore` (the very engine core the worker runs).
* gateway -- nats-server, `python -m services.inference` and `python -m services.gateway` run as
             subprocesses (their own GILs); this process opens a graphql-transport-ws socket and
             subscribes to `inferStream(prompt, maxNewTokens)`. The worker also writes every chunk
             to the JetStream stream TOKENS, as it does in production.

Both use the same prompt, greedy decoding and max_new_tokens. After one warm-up each, the two
are run alternately N times (never at the same time: the CPU is shared) and medians reported.

TTFT: direct = before `prepare` to the first emitted text piece; gateway = sending `subscribe`
(socket already open and acknowledged) to the first `next` frame with a non-empty token.
tok/s = completion tokens (the worker's own count, `usage.completionTokens`) / (request to last
chunk); decode tok/s = (completion tokens - 1) / (first token to last chunk).

Run: `.venv/bin/python -m bench.end_to_end [--runs 3] [--max-new-tokens 64]`
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import torch

from bench._common import (
    GqlSocket,
    free_port,
    load_average,
    machine,
    median,
    nats_server,
    print_table,
    read_stream,
    save_results,
    services,
    stop_on_sigterm,
    wait_for_graphql,
)
from messages import GenerateRequest, GenerationParams
from services.inference.batched import BatchedCore, BatchLimits
from services.inference.direct import run_direct
from services.inference.model_runner import ModelRunner
from services.runtime import Settings, resolve_model

PROMPT = "Write a long story about a dragon who learns to bake bread."
SUBSCRIPTION = (
    "subscription Bench($prompt: String!, $n: Int) {"
    " inferStream(prompt: $prompt, maxNewTokens: $n) { token done seq usage { completionTokens } } }"
)
PAUSE_S = 1.0  # between runs, so idle-spinning OpenMP threads of the other side have settled


@dataclass
class Run:
    path: str
    ttft_ms: float
    total_s: float
    completion_tokens: int
    text: str

    @property
    def tok_s(self) -> float:
        return self.completion_tokens / self.total_s

    @property
    def decode_tok_s(self) -> float:
        decode_s = self.total_s - self.ttft_ms / 1000
        return (self.completion_tokens - 1) / decode_s if decode_s > 0 else float("nan")


def run_direct_once(runner: ModelRunner, core: BatchedCore, prompt: str, max_new_tokens: int) -> Run:
    request = GenerateRequest(
        request_id=uuid.uuid4().hex, prompt=prompt, params=GenerationParams(max_new_tokens=max_new_tokens)
    )
    (sink,) = run_direct(runner, core, [request])
    assert sink.end_ns is not None
    return Run(
        path="direct",
        ttft_ms=sink.ttft_ms,
        total_s=(sink.end_ns - sink.started_ns) / 1e9,
        completion_tokens=sink.tokens,
        text="".join(sink.parts),
    )


async def run_gateway(url: str, prompt: str, max_new_tokens: int) -> Run:
    sock = await GqlSocket(url).open()
    try:
        start = await sock.subscribe(SUBSCRIPTION, {"prompt": prompt, "n": max_new_tokens})
        read = await read_stream(sock)
        if read.first_ns is None:
            raise RuntimeError("the subscription completed without tokens")
        return Run(
            path="gateway",
            ttft_ms=(read.first_ns - start) / 1e6,
            total_s=(read.end_ns - start) / 1e9,
            completion_tokens=read.completion_tokens,
            text=read.text,
        )
    finally:
        await sock.close()


def show(run: Run, label: str) -> None:
    print(
        f"  {label:<9} {run.path:<8} ttft {run.ttft_ms:7.1f} ms  {run.completion_tokens:3d} tokens in "
        f"{run.total_s:5.2f} s  {run.tok_s:5.1f} tok/s  (decode {run.decode_tok_s:5.1f} tok/s)",
        flush=True,
    )


async def bench(runs: int, max_new_tokens: int, prompt: str) -> dict[str, Any]:
    settings = Settings.from_env()
    began = time.monotonic()
    source = resolve_model(settings)  # converts the bundled GGUF once, cached afterwards
    print(f"model: {source.model_id} ({source.location})")
    print(f"machine: {machine()}, torch threads: {torch.get_num_threads()}, load average: {load_average()}")
    print(f"prompt: {prompt!r}, greedy, max_new_tokens={max_new_tokens}, runs={runs} (+1 warm-up each)")

    with nats_server() as nats:
        port = free_port()
        env = {
            "NATS_URL": nats.url,
            "MODEL_CACHE_DIR": str(settings.model_cache_dir),
            "GATEWAY_PORT": str(port),
            "LOG_LEVEL": "INFO",
        }
        with services(("services.inference", env), ("services.gateway", env)) as procs:
            # load the direct copy while the worker loads its own (start-up is not measured)
            runner = ModelRunner(source, load_in_4bit=False, hf_token=None)
            core = BatchedCore(runner, BatchLimits(max_rows=1, prefill_chunk_tokens=256, kv_cache_bytes=2**31))
            url = f"http://127.0.0.1:{port}/graphql"
            info = await wait_for_graphql(url, "{ modelInfo { modelId device dtype workerId } }", procs)
            print(f"worker: {info['modelInfo']}; stream TOKENS captures every chunk (JetStream, file)")
            print(f"direct: device={runner.device} dtype={runner.dtype}")
            print()

            show(run_direct_once(runner, core, prompt, max_new_tokens), "warm-up")
            await asyncio.sleep(PAUSE_S)
            show(await run_gateway(url, prompt, max_new_tokens), "warm-up")
            direct: list[Run] = []
            gateway: list[Run] = []
            for index in range(runs):
                await asyncio.sleep(PAUSE_S)
                direct.append(run_direct_once(runner, core, prompt, max_new_tokens))
                show(direct[-1], f"run {index + 1}")
                await asyncio.sleep(PAUSE_S)
                gateway.append(await run_gateway(url, prompt, max_new_tokens))
                show(gateway[-1], f"run {index + 1}")
            for proc in procs:
                proc.check()

    summary = {
        name: {
            "tok_s": median([r.tok_s for r in rs]),
            "decode_tok_s": median([r.decode_tok_s for r in rs]),
            "ttft_ms": median([r.ttft_ms for r in rs]),
            "total_s": median([r.total_s for r in rs]),
            "completion_tokens": median([r.completion_tokens for r in rs]),
        }
        for name, rs in (("direct", direct), ("gateway", gateway))
    }
    d, g = summary["direct"], summary["gateway"]
    same_text = all(r.text == direct[0].text for r in direct + gateway)

    print()
    print(f"medians of {runs} alternating runs:")
    print_table(
        ["path", "tok/s", "decode tok/s", "TTFT ms", "total s", "tokens"],
        [
            [name, s["tok_s"], s["decode_tok_s"], s["ttft_ms"], s["total_s"], int(s["completion_tokens"])]
            for name, s in summary.items()
        ],
    )
    ratios = {
        "tok_s_gateway_over_direct": g["tok_s"] / d["tok_s"],
        "decode_tok_s_gateway_over_direct": g["decode_tok_s"] / d["decode_tok_s"],
        "ttft_gateway_minus_direct_ms": g["ttft_ms"] - d["ttft_ms"],
        "ttft_gateway_over_direct": g["ttft_ms"] / d["ttft_ms"],
    }
    print(f"tok/s        gateway / direct = {ratios['tok_s_gateway_over_direct']:.3f}")
    print(f"decode tok/s gateway / direct = {ratios['decode_tok_s_gateway_over_direct']:.3f}")
    print(
        f"TTFT         gateway - direct = {ratios['ttft_gateway_minus_direct_ms']:+.1f} ms"
        f"  (x{ratios['ttft_gateway_over_direct']:.2f})"
    )
    print(f"same text on every run, both paths: {'yes' if same_text else 'NO'}")
    spread = {
        name: max(r.tok_s for r in rs) / min(r.tok_s for r in rs)
        for name, rs in (("direct", direct), ("gateway", gateway))
    }
    print("spread (max/min tok/s): " + ", ".join(f"{name} x{value:.2f}" for name, value in spread.items()))
    if max(spread.values()) > 1.2:
        print("  note: runs differ by more than 20%: something else used the CPU; rerun, or use --runs 5")
    print(f"load average after: {load_average()}; wall time: {time.monotonic() - began:.0f} s")
    return {
        "prompt": prompt,
        "max_new_tokens": max_new_tokens,
        "runs": {"direct": [asdict(r) for r in direct], "gateway": [asdict(r) for r in gateway]},
        "medians": summary,
        "ratios": ratios,
        "same_text": same_text,
        "spread_tok_s_max_over_min": spread,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="measured runs per path, alternating (default 3)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--prompt", default=PROMPT)
    args = parser.parse_args()
    stop_on_sigterm()
    try:
        result = asyncio.run(bench(args.runs, args.max_new_tokens, args.prompt))
    except KeyboardInterrupt:
        raise SystemExit("interrupted; every process this benchmark started has been stopped") from None
    print(f"saved: {save_results('end_to_end', result)}")


if __name__ == "__main__":
    main()
