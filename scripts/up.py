"""`just up`: start nats-server and every service, prefix and interleave their logs, stop all on Ctrl-C.

`just up-cluster` (`--cluster`): three local nats-server nodes from nats/cluster.conf instead of one, every
service with NATS_URL listing all three and NATS_REPLICAS=3, and two inference workers with their own
adapter folders. `just down` (`--down`) stops an `up` running in another terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PIDFILE = DATA / "up.pid"
DATASETS = DATA / "datasets"  # local fine-tune datasets: the only folder the training service reads them from
NATS_AUTH_DIR = DATA / "nats-auth"  # NATS_AUTH=on: the users' passwords (mode 0600) and nats-server's auth.conf
VENV_BIN = Path(sys.executable).parent
NATS_URL = "nats://127.0.0.1:4222"
CLUSTER = DATA / "cluster"  # `--cluster`: each node's JetStream store and each worker's adapters
CLUSTER_NODES = ("a", "b", "c")  # node i: clients 4222+i, monitoring 8222+i, routes 6222+i
GRAPHQL_URL = "http://127.0.0.1:8080/graphql"
UI_URL = "http://localhost:3000"
READY_SUBJECTS = {"svc.inference.generate", "svc.search.query", "svc.adapters.list", "svc.training.submit"}
EXIT_CONFIG = 78  # services.runtime.actor.EXIT_CONFIG: a service's configuration is wrong; no restart
COLORS = ["36", "35", "33", "32", "34", "31", "96", "95"]


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0


def nats_auth_on() -> bool:
    return os.environ.get("NATS_AUTH", "off").strip().lower() in ("on", "true", "1", "yes")


def nats_config(base: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """The nats-server config to run (`base`, from nats/), and each service's NATS login (none without
    NATS_AUTH=on).

    With NATS_AUTH=on the users (one per service, least privilege, and `operator`) and their passwords are
    made once under .data/nats-auth/ and kept; the server runs `base` plus their `authorization` block, and
    each service reads its own password file."""
    if not nats_auth_on():
        return base, {}
    from services.runtime.nats_auth import Credentials

    creds = Credentials.ensure(NATS_AUTH_DIR)
    creds.write_conf()
    config = NATS_AUTH_DIR / f"{base.stem}-server.conf"
    config.write_text(
        f'# nats/{base.name} with the users of auth.conf (made by `just up`)\n{base.read_text()}\ninclude "auth.conf"\n'
    )
    logins = {
        user: {"NATS_USER": user, "NATS_PASSWORD_FILE": str(NATS_AUTH_DIR / f"{user}.password")}
        for user in creds.passwords
    }
    return config, logins


def cluster_node(index: int) -> dict[str, str]:
    """Node `index`'s values for nats/cluster.conf (all on loopback, ports 4222/6222/8222 + index)."""
    routes = ", ".join(f"nats-route://127.0.0.1:{6222 + i}" for i in range(len(CLUSTER_NODES)))
    return {
        "NATS_NODE": f"node-{CLUSTER_NODES[index]}",
        "NATS_LISTEN": f"127.0.0.1:{4222 + index}",
        "NATS_HTTP": f"127.0.0.1:{8222 + index}",
        "NATS_CLUSTER_LISTEN": f"127.0.0.1:{6222 + index}",
        "NATS_ROUTES": f"[{routes}]",
        "NATS_STORE_DIR": str(CLUSTER / f"nats-{CLUSTER_NODES[index]}"),
    }


def nats_urls(cluster: bool) -> str:
    if not cluster:
        return NATS_URL
    return ",".join(f"nats://127.0.0.1:{4222 + i}" for i in range(len(CLUSTER_NODES)))


def services(cluster: bool = False) -> list[Proc]:
    py = str(VENV_BIN / "python")
    nats = str(VENV_BIN / "nats-server")
    config, logins = nats_config(ROOT / "nats" / ("cluster.conf" if cluster else "nats-server.conf"))
    inference = [Proc("inference", [py, "-m", "services.inference"], logins.get("inference", {}))]
    natses = [Proc("nats", [nats, "-c", str(config)])]
    if cluster:
        natses = [Proc(f"nats-{n}", [nats, "-c", str(config)], cluster_node(i)) for i, n in enumerate(CLUSTER_NODES)]
        inference = [
            Proc(
                f"inference-{i}",
                [py, "-m", "services.inference"],
                {
                    "WORKER_ID": f"inference-{i}",
                    "ADAPTER_DIR": str(CLUSTER / f"adapters-{i}"),
                    **logins.get("inference", {}),
                },
            )
            for i in (1, 2)
        ]
    procs = [
        *natses,
        *inference,
        Proc("search", [py, "-m", "services.search"], logins.get("search", {})),
        Proc("adapters", [py, "-m", "services.adapters"], logins.get("adapters", {})),
        Proc("training", [py, "-m", "services.training"], {"DATASET_DIR": str(DATASETS), **logins.get("training", {})}),
        Proc("gateway", [py, "-m", "services.gateway"], logins.get("gateway", {})),
        Proc("ui", [py, str(ROOT / "scripts" / "serve_ui.py")]),
    ]
    return procs


def port_busy(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def pump(proc: Proc, color: str, width: int) -> None:
    assert proc.process is not None and proc.process.stdout is not None
    prefix = f"\033[{color}m{proc.name:<{width}} |\033[0m " if sys.stdout.isatty() else f"{proc.name:<{width}} | "
    async for raw in proc.process.stdout:
        line = raw.decode(errors="replace").rstrip()
        if "it/s]" in line:  # progress bars from model loading
            continue
        print(prefix + line, flush=True)


async def spawn(proc: Proc, color: str, width: int, base_env: dict[str, str]) -> asyncio.Task[None]:
    env = {**os.environ, **base_env, "PYTHONUNBUFFERED": "1", **proc.env}
    proc.process = await asyncio.create_subprocess_exec(
        *proc.argv,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches only this supervisor, which stops children in order
    )
    return asyncio.create_task(pump(proc, color, width))


async def wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_busy(port):
            return True
        await asyncio.sleep(0.05)
    return False


def ready(monitors: int) -> bool:
    """GraphQL answers and every service's endpoint is subscribed (read from NATS monitoring of each of
    `monitors` nodes, not by sending requests that would log errors while workers are still loading)."""
    try:
        subs: set[str] = set()
        for index in range(monitors):
            with urllib.request.urlopen(f"http://127.0.0.1:{8222 + index}/subsz?subs=1", timeout=2) as response:
                subs |= {s["subject"] for s in json.loads(response.read()).get("subscriptions_list", [])}
        body = json.dumps({"query": "{ health }"}).encode()
        request = urllib.request.Request(GRAPHQL_URL, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=2) as response:
            healthy = '"ok"' in response.read().decode()
        with urllib.request.urlopen("http://127.0.0.1:3000/config.js", timeout=2) as response:
            ui = response.status == 200
    except OSError:
        return False
    return healthy and ui and subs >= READY_SUBJECTS


async def announce_when_ready(stop: asyncio.Event, cluster: bool) -> None:
    nodes = len(CLUSTER_NODES) if cluster else 1
    while not stop.is_set():
        if await asyncio.to_thread(ready, nodes):
            monitoring = ", ".join(f"http://127.0.0.1:{8222 + i}" for i in range(nodes))
            print(
                "\n  Switchboard is up"
                + (" on a three-node NATS cluster (NATS_REPLICAS=3)\n" if cluster else "\n")
                + f"    Web app     {UI_URL}  (Chat, Fine-tune, GraphQL Explorer)\n"
                f"    GraphQL     {GRAPHQL_URL}  (HTTP + graphql-transport-ws)\n"
                f"    NATS        {nats_urls(cluster)}  (monitoring {monitoring})\n"
                + (
                    f'    NATS users  on: nats --user operator --password "$(cat {NATS_AUTH_DIR}/operator.password)" '
                    "sub 'infer.tokens.>'\n"
                    if nats_auth_on()
                    else "    watch       nats sub 'infer.tokens.>'   |   nats micro ls\n"
                )
                + "  Ctrl-C (or `just down` elsewhere) stops everything.\n",
                flush=True,
            )
            return
        await asyncio.sleep(0.5)


async def stop_all(procs: list[Proc]) -> None:
    for proc in reversed(procs):  # services first, nats last
        p = proc.process
        if p is None or p.returncode is not None:
            continue
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(p.wait(), timeout=20)
        except TimeoutError:
            print(f"{proc.name} did not stop in 20s; killing it", flush=True)
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            await p.wait()


async def up(cluster: bool) -> int:
    nodes = len(CLUSTER_NODES) if cluster else 1
    client_ports = [(4222 + i, f"NATS node {i}") for i in range(nodes)]
    route_ports = [(6222 + i, f"NATS routes of node {i}") for i in range(nodes)] if cluster else []
    for port, what in (*client_ports, *route_ports, (8080, "GraphQL"), (3000, "web app")):
        if port_busy(port):
            print(f"port {port} ({what}) is already in use: is Switchboard already up? `just down` stops it.")
            return 1
    (DATA / "nats").mkdir(parents=True, exist_ok=True)
    DATASETS.mkdir(parents=True, exist_ok=True)
    PIDFILE.write_text(str(os.getpid()))
    procs = services(cluster)
    base_env = {"NATS_URL": nats_urls(cluster), **({"NATS_REPLICAS": "3"} if cluster else {})}
    width = max(len(p.name) for p in procs)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pumps: list[asyncio.Task[None]] = []
    try:
        last_nats = [p for p in procs if p.name.startswith("nats")][-1]
        for index, proc in enumerate(procs):
            pumps.append(await spawn(proc, COLORS[index % len(COLORS)], width, base_env))
            if proc is last_nats:  # every node listens before the services connect
                for port, what in client_ports:
                    if not await wait_port(port, 10):
                        print(f"{what} did not start; see its log above")
                        return 1
        ready = asyncio.create_task(announce_when_ready(stop, cluster))
        while not stop.is_set():
            for index, proc in enumerate(procs):
                p = proc.process
                if p is not None and p.returncode == EXIT_CONFIG and not stop.is_set():
                    print(
                        f"\n{proc.name} cannot start with this configuration (its error is above); "
                        "fix it and run again. Stopping everything.",
                        flush=True,
                    )
                    return 1
                if p is not None and p.returncode is not None and not stop.is_set():
                    proc.restarts += 1
                    delay = min(30, 2**proc.restarts)
                    print(f"{proc.name} exited with {p.returncode}; restarting in {delay}s", flush=True)
                    await asyncio.sleep(delay)
                    pumps.append(await spawn(proc, COLORS[index % len(COLORS)], width, base_env))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
        ready.cancel()
        print("\nstopping…", flush=True)
        return 0
    finally:
        await stop_all(procs)
        for task in pumps:
            task.cancel()
        PIDFILE.unlink(missing_ok=True)
        print("all stopped", flush=True)


def down() -> int:
    if not PIDFILE.exists():
        print("Switchboard is not running (no .data/up.pid)")
        return 0
    pid = int(PIDFILE.read_text().strip() or 0)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        PIDFILE.unlink(missing_ok=True)
        print("Switchboard was not running (stale pid file removed)")
        return 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("Switchboard stopped")
            return 0
        time.sleep(0.2)
    print(f"process {pid} is still running after 60s")
    return 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--down", action="store_true", help="stop an `up` running elsewhere")
    parser.add_argument("--cluster", action="store_true", help="three NATS nodes, NATS_REPLICAS=3, two workers")
    args = parser.parse_args()
    sys.exit(down() if args.down else asyncio.run(up(args.cluster)))
