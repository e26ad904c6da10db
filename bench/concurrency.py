"""Concurrency: many people at once through the gateway, against one request at a time and the static
ceiling, in one run on the bundled model.

For C concurrent `inferStream`s (default C = 1, 4, 16, 32), each with a different prompt, greedy,
`--max-new-tokens` (48):

Gateway and in-process runs take turns (each C through the gateway, then the same C in-process), never at
the same time: the worker idles while this process computes and the other way round.

* gateway   -- nats-server, `python -m services.inference` (the batched engine, `INFERENCE_MAX_CONCURRENCY`
               = the largest C) and `python -m services.gateway` as subprocesses; C graphql-transport-ws
               sockets subscribe at once. Aggregate tok/s = all completion tokens / (first subscribe to last
               final chunk); TTFT = subscribe to the first `next` with text, p50 and p99 over the C streams.
* one at a time -- this process, the same prompts answered one after another with `model.generate`
               (batch 1, the pre-batching engine's way): its aggregate tok/s.
* static    -- this process, one `model.generate` on the C prompts left-padded into one batch: the ceiling a
               batched engine can approach on this CPU, not beat.

Two prompt sets: chat-length questions, and grounded-length (the same questions with four search results in
the system message, built by `services.inference.grounding` as `webSearch` does). Then the prefill speed of
one prompt of 512 and 2,048 tokens in each dtype (`--dtypes`).

`--today 1,4,16` also runs those C through a worker with the settings from before batching (sequential engine,
bfloat16, 2 at once): the "today" columns. It takes minutes (bfloat16 prefill is slow on this CPU).

Run: `.venv/bin/python -m bench.concurrency [--levels 1,4,16,32] [--max-new-tokens 48] [--sets chat,grounded]
[--today 1,4,16]`
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from bench._common import (
    GqlSocket,
    free_port,
    load_average,
    machine,
    nats_server,
    percentile,
    print_table,
    read_stream,
    save_results,
    services,
    stop_on_sigterm,
    wait_for_graphql,
)
from messages import ChatMessage, GenerateRequest, GenerationParams, SearchResult
from services.inference.grounding import ground
from services.inference.model_runner import ModelRunner
from services.runtime import Settings, resolve_model

SUBSCRIPTION = (
    "subscription($m: [ChatMessageInput!], $p: String!, $n: Int!) "
    "{ inferStream(prompt: $p, messages: $m, maxNewTokens: $n) { token done seq usage { completionTokens } } }"
)
QUESTIONS = [
    "What is the capital of France?",
    "Write a long story about a dragon who learns to bake bread.",
    "Give me three names for a pet turtle.",
    "Explain what a message broker does.",
    "How do I boil an egg?",
    "What is the difference between a list and a tuple in Python?",
    "Suggest a name for a bakery.",
    "Why is the sky blue?",
    "Write a haiku about autumn.",
    "What are the benefits of exercise?",
    "How does a bicycle stay upright?",
    "Summarize the plot of Romeo and Juliet.",
    "What is photosynthesis?",
    "Give me a recipe for pancakes.",
    "How far is the Moon from the Earth?",
    "What is a good way to learn a new language?",
]
SOURCES = [
    SearchResult(
        title=f"Result {n}: background reading on the question",
        url=f"https://example.org/article-{n}",
        snippet=(
            "This page explains the topic in some detail, with history, definitions and examples. "
            "It covers the main facts that people usually ask about, the common misunderstandings, "
            "and where to read more. Experts quoted here agree on the basics but differ on details, "
            "and the article lists both views with their sources and dates."
        ),
    )
    for n in range(1, 5)
]


def chats(prompt_set: str, count: int) -> list[list[ChatMessage]]:
    """`count` different conversations (the questions repeat, with a number, past 16)."""
    out: list[list[ChatMessage]] = []
    for i in range(count):
        question = QUESTIONS[i % len(QUESTIONS)] + (f" ({i // len(QUESTIONS) + 1})" if i >= len(QUESTIONS) else "")
        chat = [ChatMessage(role="user", content=question)]
        if prompt_set == "grounded":
            chat = ground(chat, SOURCES, dt.date(2026, 11, 29))
        out.append(chat)
    return out


@dataclass
class Row:
    prompt_set: str
    path: str
    c: int
    tokens: int
    seconds: float
    ttft_p50_ms: float
    ttft_p99_ms: float
    prompt_tokens: float

    @property
    def tok_s(self) -> float:
        return self.tokens / self.seconds


async def one_stream(url: str, chat: list[ChatMessage], n: int) -> tuple[float, int, int]:
    """(ttft ms, completion tokens, end ns) of one inferStream; raises on an error or a seq gap."""
    sock = await GqlSocket(url).open()
    try:
        messages = [{"role": m.role.upper(), "content": m.content} for m in chat[:-1]]
        start = await sock.subscribe(SUBSCRIPTION, {"m": messages or None, "p": chat[-1].content, "n": n})
        read = await read_stream(sock, timeout=600)
        return ((read.first_ns or read.end_ns) - start) / 1e6, read.completion_tokens, read.end_ns
    finally:
        await sock.close()


async def gateway_round(url: str, prompt_set: str, c: int, n: int) -> Row:
    began = time.perf_counter_ns()
    results = await asyncio.gather(*(one_stream(url, chat, n) for chat in chats(prompt_set, c)))
    seconds = (max(end for _, _, end in results) - began) / 1e9
    ttfts = [t for t, _, _ in results]
    return Row(
        prompt_set,
        "gateway",
        c,
        sum(k for _, k, _ in results),
        seconds,
        percentile(ttfts, 50),
        percentile(ttfts, 99),
        float("nan"),
    )


def requests_of(prompt_set: str, c: int, n: int) -> list[GenerateRequest]:
    return [
        GenerateRequest(request_id=uuid.uuid4().hex, messages=chat, params=GenerationParams(max_new_tokens=n))
        for chat in chats(prompt_set, c)
    ]


def generate_tokens(runner: ModelRunner, ids: torch.Tensor, mask: torch.Tensor, n: int) -> torch.Tensor:
    """Greedy `model.generate`; returns only the new tokens, `[rows, <= n]`."""
    with torch.inference_mode():
        out = runner.model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=n,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=runner.pad_id,
        )
    return out[:, ids.shape[1] :]


def count_real(runner: ModelRunner, new: torch.Tensor) -> int:
    """New tokens up to and including each row's first end-of-turn (what a worker would count)."""
    total = 0
    for row in new.tolist():
        for k, token in enumerate(row):
            if token in runner.eos_ids:
                total += k + 1
                break
        else:
            total += len(row)
    return total


def one_at_a_time(runner: ModelRunner, prompt_set: str, c: int, n: int) -> Row:
    jobs = [runner.prepare(r) for r in requests_of(prompt_set, c, n)]
    tokens = 0
    began = time.perf_counter()
    for job in jobs:
        new = generate_tokens(runner, job.input_ids, torch.ones_like(job.input_ids), n)
        tokens += count_real(runner, new)
    seconds = time.perf_counter() - began
    prompt = sum(j.prompt_tokens for j in jobs) / len(jobs)
    return Row(prompt_set, "one at a time", c, tokens, seconds, float("nan"), float("nan"), prompt)


def static_batch(runner: ModelRunner, prompt_set: str, c: int, n: int) -> Row:
    jobs = [runner.prepare(r) for r in requests_of(prompt_set, c, n)]
    width = max(j.prompt_tokens for j in jobs)
    ids = torch.full((c, width), runner.pad_id, dtype=torch.long)
    mask = torch.zeros((c, width), dtype=torch.long)
    for i, job in enumerate(jobs):
        ids[i, width - job.prompt_tokens :] = job.input_ids[0]
        mask[i, width - job.prompt_tokens :] = 1
    began = time.perf_counter()
    tokens = count_real(runner, generate_tokens(runner, ids, mask, n))
    seconds = time.perf_counter() - began
    prompt = sum(j.prompt_tokens for j in jobs) / len(jobs)
    return Row(prompt_set, "static", c, tokens, seconds, float("nan"), float("nan"), prompt)


def prefill_speed(location: str, dtypes: list[str]) -> list[list[object]]:
    from transformers import AutoModelForCausalLM

    rows: list[list[object]] = []
    for name in dtypes:
        model = AutoModelForCausalLM.from_pretrained(location, dtype=getattr(torch, name)).eval()
        with torch.inference_mode():
            model(torch.randint(100, 1000, (1, 64)), logits_to_keep=1)  # warm-up
            for length in (512, 2048):
                ids = torch.randint(100, 1000, (1, length))
                began = time.perf_counter()
                model(ids, logits_to_keep=1)
                seconds = time.perf_counter() - began
                rows.append([name, length, round(seconds, 2), round(length / seconds)])
        del model
    return rows


PAUSE_S = 1.0  # between the two sides, so idle-spinning OpenMP threads of the other one have settled
TODAY = {  # the worker's settings before batching (issue 9's "today"): one generate per request, bf16, 2 at once
    "INFERENCE_ENGINE": "sequential",
    "INFERENCE_DTYPE": "bfloat16",
    "INFERENCE_MAX_CONCURRENCY": "2",
}


async def gateway_rounds(
    settings: Settings,
    worker_env: dict[str, str],
    levels: list[int],
    prompt_sets: list[str],
    n: int,
    path: str = "gateway",
    beside: Callable[[str, int], list[Row]] | None = None,
) -> list[Row]:
    """nats-server, one inference worker (`worker_env` on top of the defaults) and the gateway; C concurrent
    streams for each prompt set and C, each followed by `beside(set, C)`'s rows (in-process runs, taking turns
    with the gateway's so that drift in the machine's speed hits both sides alike)."""
    rows: list[Row] = []
    with nats_server() as nats:
        port = free_port()
        env = {
            "NATS_URL": nats.url,
            "MODEL_CACHE_DIR": str(settings.model_cache_dir),
            "GATEWAY_PORT": str(port),
            "GATEWAY_TOKEN_TIMEOUT_S": "600",
            "GATEWAY_BUSY_WAIT_S": "600",  # the one-at-a-time worker keeps the last streams waiting for minutes
            **worker_env,
        }
        with services(("services.inference", env), ("services.gateway", env)) as procs:
            url = f"http://127.0.0.1:{port}/graphql"
            info = await wait_for_graphql(url, "{ modelInfo { dtype engine maxConcurrency threads } }", procs)
            print(f"{path} worker: {info['modelInfo']}")
            await gateway_round(url, "chat", 2, 4)  # warm-up: the gateway's first subscriptions
            for prompt_set in prompt_sets:
                for c in levels:
                    row = await gateway_round(url, prompt_set, c, n)
                    row.path = path
                    rows.append(row)
                    print(f"  {path} {prompt_set} C={c}: {row.tok_s:.1f} tok/s", flush=True)
                    if beside is not None:
                        await asyncio.sleep(PAUSE_S)
                        rows += beside(prompt_set, c)
                    await asyncio.sleep(PAUSE_S)
    return rows


async def bench(
    levels: list[int], n: int, prompt_sets: list[str], dtypes: list[str], today_levels: list[int]
) -> dict[str, Any]:
    settings = Settings.from_env()
    source = resolve_model(settings)
    print(f"model: {source.model_id}; machine: {machine()}; torch threads {torch.get_num_threads()}")
    print(f"load average before: {load_average()}; greedy, max_new_tokens={n}, C = {levels}")
    runner = ModelRunner(source, load_in_4bit=False, hf_token=None)  # loaded first: it idles while the worker runs
    print(f"in-process: dtype {runner.dtype}")
    first = runner.prepare(requests_of("chat", 1, 4)[0])
    generate_tokens(runner, first.input_ids, torch.ones_like(first.input_ids), 4)  # warm-up

    def beside(prompt_set: str, c: int) -> list[Row]:
        """The in-process runs of this set and C, right after the gateway's (the machine's speed drifts)."""
        time.sleep(PAUSE_S)
        extra = [one_at_a_time(runner, prompt_set, min(4, max(levels)), n)] if c == levels[0] else []
        extra.append(static_batch(runner, prompt_set, c, n))
        for row in extra:
            print(f"  {row.path} {prompt_set} C={row.c}: {row.tok_s:.1f} tok/s", flush=True)
        return extra

    worker = {"INFERENCE_MAX_CONCURRENCY": str(max(levels))}
    rows = await gateway_rounds(settings, worker, levels, prompt_sets, n, beside=beside)
    if today_levels:
        rows += await gateway_rounds(settings, TODAY, today_levels, prompt_sets, n, path="today")
    prefill = prefill_speed(source.location, dtypes)
    print(f"\nload average after: {load_average()}\n")
    table: list[list[object]] = []
    ratios: list[list[object]] = []
    for prompt_set in prompt_sets:
        alone = next(r for r in rows if r.prompt_set == prompt_set and r.path == "one at a time")
        c1 = next((r for r in rows if r.prompt_set == prompt_set and r.path == "gateway" and r.c == 1), None)
        for c in levels:
            gw = next(r for r in rows if r.prompt_set == prompt_set and r.path == "gateway" and r.c == c)
            st = next(r for r in rows if r.prompt_set == prompt_set and r.path == "static" and r.c == c)
            today = next((r for r in rows if r.prompt_set == prompt_set and r.path == "today" and r.c == c), None)
            table.append(
                [
                    prompt_set,
                    c,
                    round(st.prompt_tokens),
                    round(gw.tok_s, 1),
                    round(gw.ttft_p50_ms),
                    round(gw.ttft_p99_ms),
                    round(alone.tok_s, 1),
                    round(st.tok_s, 1),
                    round(today.tok_s, 1) if today else "-",
                    round(today.ttft_p99_ms) if today else "-",
                ]
            )
            ratios.append(
                [
                    prompt_set,
                    c,
                    round(gw.tok_s / c1.tok_s, 2) if c1 else "-",
                    round(gw.tok_s / alone.tok_s, 2),
                    round(gw.tok_s / st.tok_s, 2),
                    round(gw.tok_s / today.tok_s, 2) if today else "-",
                ]
            )
    print_table(
        [
            "prompts",
            "C",
            "prompt tok",
            "gateway tok/s",
            "TTFT p50 ms",
            "TTFT p99 ms",
            "one-at-a-time tok/s",
            "static tok/s",
            "today tok/s",
            "today TTFT p99 ms",
        ],
        table,
    )
    print()
    print_table(
        ["prompts", "C", "gateway / gateway C=1", "gateway / one at a time", "gateway / static", "gateway / today"],
        ratios,
    )
    print()
    print_table(["dtype", "prompt tokens", "prefill s", "prefill tok/s"], prefill)
    data = {"rows": [r.__dict__ | {"tok_s": r.tok_s} for r in rows], "prefill": prefill}
    print(f"\nsaved {save_results('concurrency', data)}")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,4,16,32")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--sets", default="chat,grounded")
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument(
        "--today", default="", help="also run these C (e.g. 1,4,16) through a worker with the settings before batching"
    )
    args = parser.parse_args()
    stop_on_sigterm()
    asyncio.run(
        bench(
            [int(x) for x in args.levels.split(",")],
            args.max_new_tokens,
            args.sets.split(","),
            [d for d in args.dtypes.split(",") if d],
            [int(x) for x in args.today.split(",") if x],
        )
    )


if __name__ == "__main__":
    main()
