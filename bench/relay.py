"""The relay alone, no model: how fast and how faithfully the gateway forwards token chunks.

Processes (all on this machine): a fresh nats-server (JetStream on), `python -m services.gateway`,
and `python -m bench._token_source` -- a synthetic worker in queue group `inference` on
`svc.inference.generate` that accepts and then publishes K TokenChunks (seq 0..K-1, the last with
done, finish_reason=stop and usage) on `infer.tokens.<request_id>`, each token being the text
`t=<time.time_ns() at publish>;`. This process is only the client.

For each pace and each concurrency C, two paths are measured one after the other:

* raw     -- the client speaks NATS itself, as the gateway does: subscribe `infer.tokens.<id>`,
             request `svc.inference.generate`, decode every TokenChunk (msgspec).
* gateway -- the client opens C graphql-transport-ws sockets (handshake done beforehand), sends C
             `inferStream(prompt, maxNewTokens: K)` subscriptions at once and reads every `next`.

Paces: `flood` -- each stream publishes as fast as it can (yielding to the event loop after
every chunk, so streams interleave); `1ms` -- each stream publishes one chunk every 1 ms on a
fixed schedule (1000 tok/s per stream, far above a real model's ~25 tok/s on this CPU).

Reported per round: aggregate tok/s at the client (all chunks / first request sent to last
`done` received), per-token latency p50/p99 (client receive time minus the publish time written
in the token; both `time.time_ns()` on one host), lost and duplicated `seq` summed over the C
streams (both must be 0), chunks out of order, streams that ended in an error, and the CPU time
(from /proc) that the gateway, nats-server, the source and this client each spent per 1000 chunks.
Each row is the median of `--repeats` rounds (default 3), raw and gateway alternating. By default the TOKENS stream (subjects `infer.tokens.>`, file storage, as the
inference worker creates it) is present, so JetStream capture cost is included; `--no-jetstream`
leaves it out. The ratios gateway/raw close the output.

Run: `.venv/bin/python -m bench.relay [--concurrency 1,16,64,500] [--tokens 200] [--repeats 3] [--no-jetstream]
[--profile FILE]` (`--profile`: py-spy samples the gateway during the measured rounds; top functions printed)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import DiscardPolicy, StorageType, StreamConfig

import nats
from bench._common import (
    GqlSocket,
    free_port,
    load_average,
    machine,
    median,
    nats_server,
    percentile,
    print_table,
    process_cpu_s,
    save_results,
    services,
    stop_on_sigterm,
    wait_for_graphql,
)
from bench._profile import print_summary, profiled, summary
from messages import Accept, GenerateReply, GenerateRequest, GenerationParams, TokenChunk, encode, subjects

SUBSCRIPTION = (
    "subscription Relay($prompt: String!, $n: Int) {"
    " inferStream(prompt: $prompt, maxNewTokens: $n) { token done seq usage { completionTokens } } }"
)
PACES = {"flood": 0, "1ms": 1000}  # name -> microseconds between two chunks of one stream
ROUND_TIMEOUT_S = 60.0

_chunk_decoder = msgspec.json.Decoder(TokenChunk)
_reply_decoder = msgspec.json.Decoder(GenerateReply)  # type: ignore[arg-type]


@dataclass
class Stream:
    """What one subscription received."""

    seqs: list[int] = field(default_factory=list)
    latencies_ns: list[int] = field(default_factory=list)
    frames: int = 0
    done_at_ns: int | None = None
    error: str | None = None

    def record(self, seq: int, token: str, received_ns: int) -> None:
        """One message: its `token` is one or more `t=<ns>;` pieces joined, `seq` that of the last piece."""
        self.frames += 1
        pieces = token.split(";")[:-1] if token.endswith(";") else [token]
        first = seq - len(pieces) + 1
        self.seqs.extend(range(first, seq + 1))
        for piece in pieces:
            if piece.startswith("t="):
                self.latencies_ns.append(received_ns - int(piece[2:]))


@dataclass
class Round:
    pace: str
    concurrency: int
    path: str
    tokens: int
    elapsed_s: float
    tok_s: float
    p50_ms: float
    p99_ms: float
    lost: int
    dup: int
    out_of_order: int
    errors: int
    chunks_per_frame: float  # chunks per message the client received (> 1: joined while catching up)
    cpu_ms_per_1k: dict[str, float]  # process -> CPU milliseconds per 1000 chunks received


@dataclass
class Pids:
    """The processes whose CPU time is charged to each round."""

    gateway: int
    nats: int
    source: int

    def snapshot(self) -> dict[str, float]:
        return {
            "gateway": process_cpu_s(self.gateway),
            "nats": process_cpu_s(self.nats),
            "source": process_cpu_s(self.source),
            "client": time.process_time(),
        }


def summarize(
    pace: str, concurrency: int, path: str, k: int, streams: list[Stream], start_ns: int, cpu_s: dict[str, float]
) -> Round:
    received = sum(len(s.seqs) for s in streams)
    done = [s.done_at_ns for s in streams if s.done_at_ns is not None]
    end_ns = max(done) if len(done) == len(streams) else time.perf_counter_ns()
    elapsed = (end_ns - start_ns) / 1e9
    latencies = [ns / 1e6 for s in streams for ns in s.latencies_ns]
    lost = sum(len(set(range(k)) - set(s.seqs)) for s in streams)
    dup = sum(len(s.seqs) - len(set(s.seqs)) for s in streams)
    disorder = sum(sum(1 for a, b in zip(s.seqs, s.seqs[1:], strict=False) if b <= a) for s in streams)
    return Round(
        pace=pace,
        concurrency=concurrency,
        path=path,
        tokens=received,
        elapsed_s=elapsed,
        tok_s=received / elapsed if elapsed > 0 else float("nan"),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        lost=lost,
        dup=dup,
        out_of_order=disorder,
        errors=sum(1 for s in streams if s.error is not None),
        chunks_per_frame=received / max(1, sum(s.frames for s in streams)),
        cpu_ms_per_1k={name: sec * 1e6 / received if received else float("nan") for name, sec in cpu_s.items()},
    )


def combine(rounds: list[Round]) -> Round:
    """Medians of the repeats (faults are summed)."""
    first = rounds[0]
    return Round(
        pace=first.pace,
        concurrency=first.concurrency,
        path=first.path,
        tokens=min(r.tokens for r in rounds),
        elapsed_s=median([r.elapsed_s for r in rounds]),
        tok_s=median([r.tok_s for r in rounds]),
        p50_ms=median([r.p50_ms for r in rounds]),
        p99_ms=median([r.p99_ms for r in rounds]),
        lost=sum(r.lost for r in rounds),
        dup=sum(r.dup for r in rounds),
        out_of_order=sum(r.out_of_order for r in rounds),
        errors=sum(r.errors for r in rounds),
        chunks_per_frame=median([r.chunks_per_frame for r in rounds]),
        cpu_ms_per_1k={name: median([r.cpu_ms_per_1k[name] for r in rounds]) for name in first.cpu_ms_per_1k},
    )


async def raw_round(nc: Client, pids: Pids, pace: str, concurrency: int, k: int) -> Round:
    """C NATS subscribers fed by the synthetic worker, no gateway in between."""
    streams = [Stream() for _ in range(concurrency)]
    finished = [asyncio.Event() for _ in range(concurrency)]
    ids = [uuid.uuid4().hex for _ in range(concurrency)]
    subs = []
    for stream, event, request_id in zip(streams, finished, ids, strict=True):

        async def on_chunk(msg: Msg, stream: Stream = stream, event: asyncio.Event = event) -> None:
            now = time.time_ns()
            chunk = _chunk_decoder.decode(msg.data)
            stream.record(chunk.seq, chunk.token, now)
            if chunk.done:
                stream.done_at_ns = time.perf_counter_ns()
                event.set()

        subs.append(await nc.subscribe(subjects.tokens_subject(request_id), cb=on_chunk, pending_msgs_limit=-1))
    await nc.flush()
    prompt = f"interval_us={PACES[pace]}"

    async def start(request_id: str, stream: Stream) -> None:
        request = GenerateRequest(request_id=request_id, prompt=prompt, params=GenerationParams(max_new_tokens=k))
        msg = await nc.request(subjects.INFERENCE_GENERATE, encode(request), timeout=10)
        reply = _reply_decoder.decode(msg.data)
        if not isinstance(reply, Accept):
            stream.error = f"{reply.code}: {reply.message}"

    cpu_before = pids.snapshot()
    start_ns = time.perf_counter_ns()
    await asyncio.gather(*(start(rid, s) for rid, s in zip(ids, streams, strict=True)))
    waits = [asyncio.create_task(e.wait()) for e, s in zip(finished, streams, strict=True) if s.error is None]
    if waits:
        _, pending = await asyncio.wait(waits, timeout=ROUND_TIMEOUT_S)
        for task in pending:
            task.cancel()
    await nc.flush()  # anything still in flight (a duplicate, say) arrives before we stop listening
    cpu = {name: sec - cpu_before[name] for name, sec in pids.snapshot().items()}
    for sub in subs:
        await sub.unsubscribe()
    for stream in streams:
        if stream.done_at_ns is None and stream.error is None:
            stream.error = "no final chunk"
    return summarize(pace, concurrency, "raw", k, streams, start_ns, cpu)


async def gateway_round(url: str, pids: Pids, pace: str, concurrency: int, k: int) -> Round:
    """C graphql-transport-ws subscriptions through the gateway."""
    streams = [Stream() for _ in range(concurrency)]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        sockets = await asyncio.gather(*(GqlSocket(url).open(session) for _ in range(concurrency)))

        async def consume(sock: GqlSocket, stream: Stream) -> None:
            try:
                while True:
                    frame = await sock.receive(timeout=ROUND_TIMEOUT_S)
                    kind = frame["type"]
                    if kind == "next":
                        now = time.time_ns()
                        payload = frame["payload"]
                        if payload.get("errors"):
                            stream.error = str(payload["errors"])
                            return
                        chunk = payload["data"]["inferStream"]
                        stream.record(chunk["seq"], chunk["token"], now)
                        if chunk["done"]:
                            stream.done_at_ns = time.perf_counter_ns()
                    elif kind == "error":
                        stream.error = str(frame["payload"])
                        return
                    elif kind == "complete":
                        if stream.done_at_ns is None:
                            stream.error = "completed without a final chunk"
                        return
            except (TimeoutError, RuntimeError) as exc:
                stream.error = repr(exc)

        variables = {"prompt": f"interval_us={PACES[pace]}", "n": k}
        cpu_before = pids.snapshot()
        start_ns = time.perf_counter_ns()
        await asyncio.gather(*(sock.subscribe(SUBSCRIPTION, variables) for sock in sockets))
        await asyncio.gather(*(consume(sock, s) for sock, s in zip(sockets, streams, strict=True)))
        cpu = {name: sec - cpu_before[name] for name, sec in pids.snapshot().items()}
        await asyncio.gather(*(sock.close() for sock in sockets))
    return summarize(pace, concurrency, "gateway", k, streams, start_ns, cpu)


async def measure(
    nc: Client,
    url: str,
    pids: Pids,
    paces: list[str],
    concurrency: list[int],
    repeats: int,
    k: int,
    measured: list[Round],
) -> None:
    """Every round, raw and gateway taking turns, appended to `measured` as it ends."""
    for pace in paces:
        for c in concurrency:
            for rep in range(repeats):
                for path in ("raw", "gateway"):  # alternate, never at the same time
                    result = (
                        await raw_round(nc, pids, pace, c, k)
                        if path == "raw"
                        else await gateway_round(url, pids, pace, c, k)
                    )
                    measured.append(result)
                    print(
                        f"  {pace:<5} C={c:<3} #{rep + 1} {path:<7} {result.tokens:6d} chunks in "
                        f"{result.elapsed_s:6.3f} s = {result.tok_s:9,.0f} tok/s",
                        flush=True,
                    )
                    await asyncio.sleep(0.2)


async def wait_for_source(nc: Client, timeout: float = 30.0) -> None:
    """Until the synthetic worker answers (a one-chunk request)."""
    deadline = time.monotonic() + timeout
    while True:
        request = GenerateRequest(
            request_id=uuid.uuid4().hex, prompt="ready?", params=GenerationParams(max_new_tokens=1)
        )
        try:
            await nc.request(subjects.INFERENCE_GENERATE, encode(request), timeout=2)
            return
        except (NoRespondersError, NatsTimeout):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def bench(
    concurrency: list[int], k: int, jetstream: bool, paces: list[str], repeats: int, profile: Path | None
) -> dict[str, Any]:
    began = time.monotonic()
    print(f"machine: {machine()}, load average before: {load_average()}")
    print(
        f"K={k} chunks per stream, {repeats} repeat(s) per row (medians; faults summed); paces: "
        + ", ".join(
            f"{p} ({'as fast as possible' if PACES[p] == 0 else f'1 chunk / {PACES[p]} us / stream'})" for p in paces
        )
    )
    measured: list[Round] = []
    with nats_server() as server:
        assert server.proc is not None
        nc = await nats.connect(server.url, name="bench-relay-client")
        try:
            if jetstream:
                await nc.jetstream().add_stream(
                    StreamConfig(
                        name=subjects.TOKENS_STREAM,
                        subjects=[subjects.TOKENS_WILDCARD],
                        storage=StorageType.FILE,
                        max_age=3600.0,
                        max_bytes=256 * 1024 * 1024,
                        discard=DiscardPolicy.OLD,
                    )
                )
            print(
                "JetStream: stream TOKENS captures infer.tokens.> (file storage), as in production"
                if jetstream
                else "JetStream: no TOKENS stream (core NATS only)"
            )
            port = free_port()
            env = {"NATS_URL": server.url, "GATEWAY_PORT": str(port), "LOG_LEVEL": "WARNING"}
            with services(("bench._token_source", env), ("services.gateway", env)) as procs:
                pids = Pids(gateway=procs[1].proc.pid, nats=server.proc.pid, source=procs[0].proc.pid)
                url = f"http://127.0.0.1:{port}/graphql"
                await wait_for_graphql(url, "{ health }", procs, timeout=60)
                await wait_for_source(nc)
                # warm-up (not reported): connections, code paths, the JetStream file
                await raw_round(nc, pids, "flood", 4, k)
                await gateway_round(url, pids, "flood", 4, k)
                print()
                with profiled(pids.gateway, profile) if profile else contextlib.nullcontext():
                    await measure(nc, url, pids, paces, concurrency, repeats, k, measured)
                for proc in procs:
                    proc.check()

            if jetstream:
                info = await nc.jetstream().stream_info(subjects.TOKENS_STREAM)
                print(f"TOKENS stream holds {info.state.messages} chunks, {info.state.bytes / 1e6:.1f} MB")
        finally:
            await nc.close()

    rows = [
        combine([r for r in measured if (r.pace, r.concurrency, r.path) == (pace, c, path)])
        for pace in paces
        for c in concurrency
        for path in ("raw", "gateway")
    ]
    print()
    print("CPU columns: CPU ms per 1000 chunks received, per process (the client is this process)")
    print_table(
        [
            "pace",
            "C",
            "path",
            "tok/s",
            "p50 ms",
            "p99 ms",
            "lost",
            "dup",
            "disorder",
            "errors",
            "chunks/frame",
            "CPU gateway",
            "CPU nats",
            "CPU source",
            "CPU client",
        ],
        [
            [r.pace, r.concurrency, r.path, r.tok_s, r.p50_ms, r.p99_ms, r.lost, r.dup, r.out_of_order, r.errors]
            + [r.chunks_per_frame]
            + [r.cpu_ms_per_1k[name] for name in ("gateway", "nats", "source", "client")]
            for r in rows
        ],
    )
    ratios: list[dict[str, Any]] = []
    print("gateway / raw:")
    for pace in paces:
        for c in concurrency:
            raw, gw = (
                next(r for r in rows if (r.pace, r.concurrency, r.path) == (pace, c, p)) for p in ("raw", "gateway")
            )
            ratio = {
                "pace": pace,
                "concurrency": c,
                "tok_s": gw.tok_s / raw.tok_s,
                "p50_added_ms": gw.p50_ms - raw.p50_ms,
                "p99_added_ms": gw.p99_ms - raw.p99_ms,
            }
            ratios.append(ratio)
            print(
                f"  {pace:<5} C={c:<3} tok/s x{ratio['tok_s']:.3f}   p50 {ratio['p50_added_ms']:+9.2f} ms"
                f"   p99 {ratio['p99_added_ms']:+9.2f} ms"
            )
    faults = sum(r.lost + r.dup + r.out_of_order + r.errors for r in rows)
    print(f"lost + duplicated + out-of-order chunks + failed streams, all rounds: {faults}")
    print(f"load average after: {load_average()}; wall time: {time.monotonic() - began:.0f} s")
    return {
        "tokens_per_stream": k,
        "jetstream": jetstream,
        "repeats": repeats,
        "paces_us": {p: PACES[p] for p in paces},
        "medians": [asdict(r) for r in rows],
        "rounds": [asdict(r) for r in measured],
        "ratios": ratios,
        "faults": faults,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--concurrency", default="1,16,64,500", help="comma-separated subscription counts (default 1,16,64,500)"
    )
    parser.add_argument("--tokens", type=int, default=200, help="chunks per stream, K (default 200)")
    parser.add_argument("--paces", default=",".join(PACES), help=f"comma-separated, from {list(PACES)}")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per row, medians reported (default 3)")
    parser.add_argument("--no-jetstream", action="store_true", help="no TOKENS stream: core NATS only")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="record the gateway with py-spy during the measured rounds"
    )
    args = parser.parse_args()
    stop_on_sigterm()
    concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    paces = [p.strip() for p in args.paces.split(",") if p.strip()]
    unknown = [p for p in paces if p not in PACES]
    if unknown:
        parser.error(f"unknown pace(s) {unknown}; choose from {list(PACES)}")
    try:
        result = asyncio.run(bench(concurrency, args.tokens, not args.no_jetstream, paces, args.repeats, args.profile))
    except KeyboardInterrupt:
        raise SystemExit("interrupted; every process this benchmark started has been stopped") from None
    if args.profile and args.profile.exists():
        result["gateway_profile"] = summary(args.profile)
        print(f"where the gateway's time went in the measured rounds (py-spy, raw samples in {args.profile}):")
        print_summary(result["gateway_profile"])
    print(f"saved: {save_results('relay', result)}")
    if result["faults"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
