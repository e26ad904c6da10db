"""Helpers shared by the benchmarks: service subprocesses, a timed graphql-transport-ws client, stats, tables."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from services.runtime.testing import NatsServer, free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"

__all__ = [
    "RESULTS",
    "GqlSocket",
    "NatsServer",
    "ServiceProcess",
    "StreamRead",
    "free_port",
    "load_average",
    "machine",
    "median",
    "nats_server",
    "percentile",
    "print_table",
    "process_cpu_s",
    "read_stream",
    "save_results",
    "services",
    "stop_on_sigterm",
    "wait_for_graphql",
    "wait_for_port",
]


def stop_on_sigterm() -> None:
    """Make SIGTERM behave like Ctrl-C, so the `finally` blocks stop every process we started."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cpu(s), Python {platform.python_version()}"


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on this machine skews every number here."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def process_cpu_s(pid: int) -> float:
    """CPU seconds process `pid` has run so far, summed over its live threads (Linux schedstat, ns
    resolution; falls back to /proc/<pid>/stat at 10 ms ticks; NaN where neither exists)."""
    try:
        total_ns = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):  # a thread may end while we read
                total_ns += int((task / "schedstat").read_text().split()[0])
        return total_ns / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return math.nan


@contextlib.contextmanager
def nats_server() -> Iterator[NatsServer]:
    """A fresh nats-server (JetStream on, temp store dir), always stopped and removed afterwards."""
    server = NatsServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


class ServiceProcess:
    """`python -m <module>` in its own process (its own GIL), logs to a file; stopped with SIGTERM."""

    def __init__(self, module: str, env: dict[str, str], log_dir: Path) -> None:
        self.module = module
        self.log_path = log_dir / f"{module.replace('.', '_')}.log"
        self._log = self.log_path.open("wb")
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module], cwd=REPO, env=full_env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def check(self) -> None:
        code = self.proc.poll()
        if code is not None:
            raise RuntimeError(f"{self.module} exited with {code}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


@contextlib.contextmanager
def services(*specs: tuple[str, dict[str, str]]) -> Iterator[list[ServiceProcess]]:
    """Start each (module, env) as a subprocess; stop them all (in reverse) on the way out."""
    log_dir = Path(tempfile.mkdtemp(prefix="sb-bench-logs-"))
    started: list[ServiceProcess] = []
    keep_logs = True
    try:
        for module, env in specs:
            started.append(ServiceProcess(module, env, log_dir))
        yield started
        keep_logs = False
    except (KeyboardInterrupt, asyncio.CancelledError):
        keep_logs = False  # interrupted on purpose: nothing to look into
        raise
    finally:
        for proc in reversed(started):
            code = proc.stop()
            if code not in (0, -signal.SIGTERM):
                keep_logs = True
                print(f"note: {proc.module} exited with {code}", file=sys.stderr)
        if keep_logs:
            print(f"service logs kept in {log_dir}", file=sys.stderr)
        else:
            shutil.rmtree(log_dir, ignore_errors=True)


async def wait_for_graphql(
    url: str, query: str, procs: Sequence[ServiceProcess], timeout: float = 90.0
) -> dict[str, Any]:
    """Poll `query` over HTTP until it answers without errors (all services up); returns its data."""
    deadline = time.monotonic() + timeout
    last: object = None
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            for proc in procs:
                proc.check()
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                async with session.post(url, json={"query": query}, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    body = await resp.json()
                    if not body.get("errors") and body.get("data"):
                        data: dict[str, Any] = body["data"]
                        return data
                    last = body
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s; last answer: {last}")


_frame = msgspec.json.Decoder()


class GqlSocket:
    """One graphql-transport-ws connection. `open()` does the handshake; `subscribe()` returns its send time."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("http://", "ws://")
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._own_session = False

    async def open(self, session: aiohttp.ClientSession | None = None) -> GqlSocket:
        self._own_session = session is None
        self.session = session or aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.url, protocols=("graphql-transport-ws",), max_msg_size=0)
        await self.ws.send_str('{"type":"connection_init"}')
        ack = await self.ws.receive_json(timeout=10)
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        return self

    async def subscribe(self, query: str, variables: dict[str, Any], op_id: str = "1") -> int:
        """Send `subscribe`; returns time.perf_counter_ns() taken just before sending."""
        assert self.ws is not None
        frame = json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})
        sent = time.perf_counter_ns()
        await self.ws.send_str(frame)
        return sent

    async def receive(self, timeout: float = 120.0) -> dict[str, Any]:
        """The next protocol frame (`next`, `error`, `complete`, ...); pings are answered and skipped."""
        assert self.ws is not None
        while True:
            msg = await self.ws.receive(timeout=timeout)
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"websocket closed: {msg.type} {msg.data!r}")
            frame: dict[str, Any] = _frame.decode(msg.data)
            kind = frame.get("type")
            if kind == "ping":
                await self.ws.send_str('{"type":"pong"}')
                continue
            if kind == "pong":
                continue
            return frame

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None and self._own_session:
            await self.session.close()


@dataclass
class StreamRead:
    """One `inferStream` read to its end: when the first text and the final chunk came (perf_counter_ns)."""

    first_ns: int | None
    end_ns: int
    completion_tokens: int
    text: str


async def read_stream(sock: GqlSocket, timeout: float = 60.0) -> StreamRead:
    """Read `inferStream` frames until `complete`, checking that `seq` only goes forward (a frame that carries
    several coalesced chunks has the last one's seq: README, "Under load a `next` may carry more than one token").

    Raises RuntimeError on a GraphQL error, a seq that goes back, or a stream that completes without its final
    chunk."""
    first: int | None = None
    end: int | None = None
    parts: list[str] = []
    completion_tokens = 0
    expected_seq = 0
    while True:
        frame = await sock.receive(timeout=timeout)
        kind = frame["type"]
        if kind == "next":
            now = time.perf_counter_ns()
            if frame["payload"].get("errors"):
                raise RuntimeError(f"gateway error: {frame['payload']['errors']}")
            chunk: dict[str, Any] = frame["payload"]["data"]["inferStream"]
            if chunk["seq"] < expected_seq:  # a frame may carry several chunks (seq jumps), never go back
                raise RuntimeError(f"seq {chunk['seq']} where {expected_seq} or later was expected")
            expected_seq = chunk["seq"] + 1
            if chunk["token"]:
                parts.append(chunk["token"])
                if first is None:
                    first = now
            if chunk["done"]:
                end = now
                completion_tokens = int(chunk["usage"]["completionTokens"])
        elif kind == "error":
            raise RuntimeError(f"gateway error: {frame['payload']}")
        elif kind == "complete":
            break
    if end is None:
        raise RuntimeError("the subscription completed without a final chunk")
    return StreamRead(first, end, completion_tokens, "".join(parts))


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A boxed table; numbers right-aligned, text left-aligned."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print(line)
    for index, row in enumerate(cells):
        padded = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True)]
        print("| " + " | ".join(padded) + " |")
        if index == 0:
            print(line)
    print(line)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 99.95:
            return f"{value:,.0f}"
        if abs(value) >= 9.995:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def save_results(name: str, data: dict[str, Any]) -> Path:
    """Write the run's numbers to bench/results/<name>-<timestamp>.json (git-ignored)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, default=str))
    return path
