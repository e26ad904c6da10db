"""A three-node NATS cluster on loopback, run from the project's own `nats/cluster.conf` (the file
`just up-cluster` runs), each node on free ports with its own JetStream store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO, free_port, nats_server_binary, wait_for_port

CLUSTER_CONF = REPO / "nats" / "cluster.conf"


class NatsNode:
    def __init__(self, name: str, store: Path) -> None:
        self.name = name
        self.port = free_port()
        self.http_port = free_port()
        self.route_port = free_port()
        self.store = store / name
        self.log_file = store / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def monitor(self, path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/{path}", timeout=2) as response:
            found: dict[str, object] = json.loads(response.read())
            return found


class NatsCluster:
    """Three nats-server processes with routes to each other; `kill(i)` is SIGKILL, `start(i)` brings a node back
    with its store."""

    def __init__(self, size: int = 3) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sb-cluster-"))
        self.nodes = [NatsNode(f"node-{i}", self.root) for i in range(size)]

    @property
    def urls(self) -> str:
        """NATS_URL for a service: every node, comma-separated."""
        return ",".join(node.url for node in self.nodes)

    def start(self, index: int | None = None) -> None:
        routes = ", ".join(f"nats-route://127.0.0.1:{node.route_port}" for node in self.nodes)
        for node in self.nodes if index is None else [self.nodes[index]]:
            env = {
                **os.environ,
                "NATS_NODE": node.name,
                "NATS_LISTEN": f"127.0.0.1:{node.port}",
                "NATS_HTTP": f"127.0.0.1:{node.http_port}",
                "NATS_CLUSTER_LISTEN": f"127.0.0.1:{node.route_port}",
                "NATS_ROUTES": f"[{routes}]",
                "NATS_STORE_DIR": str(node.store),
            }
            node.proc = subprocess.Popen(
                [nats_server_binary(), "-c", str(CLUSTER_CONF), "-l", str(node.log_file)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for node in self.nodes if index is None else [self.nodes[index]]:
            wait_for_port(node.port)
        self.wait_for_meta_leader()

    def wait_for_meta_leader(self, timeout_s: float = 30.0) -> None:
        """Until every running node knows the JetStream meta leader (a cluster that can create streams)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                leaders = {
                    (node.monitor("jsz").get("meta_cluster") or {}).get("leader")  # type: ignore[union-attr]
                    for node in self.nodes
                    if node.proc is not None
                }
            except OSError:
                leaders = {None}
            if None not in leaders and len(leaders) == 1:
                return
            time.sleep(0.2)
        raise AssertionError("the NATS cluster elected no JetStream meta leader in time")

    def kill(self, index: int) -> None:
        proc = self.nodes[index].proc
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.nodes[index].proc = None

    def cleanup(self) -> None:
        for node in self.nodes:
            if node.proc is not None:
                node.proc.terminate()
                node.proc.wait(10)
                node.proc = None
        shutil.rmtree(self.root, ignore_errors=True)
