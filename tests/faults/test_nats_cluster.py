"""Switchboard on a real three-node NATS cluster (the project's nats/cluster.conf, tests/support/nats_cluster.py) with
NATS_REPLICAS=3: every stream, KV bucket and object store keeps three copies; losing any one node loses no
adapter, active choice or job record; and an answer streaming while a node dies either finishes with exactly
the text it would have had, or ends with a typed error within 5 s.

The services (registry, training, an inference worker, a gateway) are real actors in this process, each
connected to the node nats-py picked from the list; the test kills the node that a given service is on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client

import nats
from messages import (
    AdapterList,
    ErrorCode,
    GetJob,
    JobRecord,
    JobReply,
    JobState,
    ListAdapters,
    SwitchboardError,
    decode,
    encode,
    subjects,
)
from messages.adapters import AdapterReply
from services.adapters import AdaptersActor
from services.gateway import GatewayActor, GatewayConfig
from services.inference import InferenceActor, InferenceConfig
from services.runtime import ActorContext, Settings, open_key_value, running
from services.training import TrainingActor
from tests.conftest import NatsServer, worker_settings
from tests.support.adapters import set_active
from tests.support.graphql_client import Subscription
from tests.support.nats_cluster import NatsCluster
from tests.support.training import REGISTRY, TINY, spec, submitted, wait_for

pytestmark = pytest.mark.fault

NOTICED_WITHIN_S = 5.0
RECOVERED_WITHIN_S = 30.0  # JetStream elects a new stream leader in seconds; reads fail (typed) until then  # issue 14: a stream that cannot finish ends with a typed error within 5 s
STORES = ("TOKENS", "TRAIN_JOBS", "KV_adapters", "KV_training", "OBJ_adapter-files")
STREAM = (
    "subscription($p: String!, $n: Int!) { inferStream(prompt: $p, maxNewTokens: $n, temperature: 0) "
    "{ token seq done requestId } }"
)
PROMPT = "Write a long story about a lighthouse keeper and the sea."
log = logging.getLogger("test")


@pytest.fixture(scope="module")
def cluster() -> Iterator[NatsCluster]:
    nodes = NatsCluster()
    nodes.start()
    yield nodes
    nodes.cleanup()


async def until_whole(nc: Client, timeout_s: float = 60.0) -> float:
    """Wait until every store has a leader and two current followers again (after a node came back); returns
    how long that took."""
    js = nc.jetstream()
    started = time.monotonic()
    while True:
        try:
            infos = [await js.stream_info(name) for name in STORES]
            if all(
                i.cluster and i.cluster.leader and sum(1 for p in i.cluster.replicas or [] if p.current) == 2
                for i in infos
            ):
                return time.monotonic() - started
        except nats.errors.Error:
            pass  # no leader yet for one of them
        assert time.monotonic() - started < timeout_s, "the cluster did not recover"
        await asyncio.sleep(0.2)


@dataclass
class Stack:
    contexts: dict[str, ActorContext]
    graphql_url: str

    def node_of(self, service: str, cluster: NatsCluster) -> int:
        """The index of the node `service`'s connection is on now."""
        url = self.contexts[service].nc.connected_url
        assert url is not None
        return next(i for i, node in enumerate(cluster.nodes) if node.port == url.port)


@pytest.fixture(scope="module")
def settings(base_settings: Settings, cluster: NatsCluster) -> Settings:
    return replace(base_settings, nats_url=cluster.urls, nats_replicas=3)


@pytest.fixture(scope="module")
async def nc(cluster: NatsCluster) -> AsyncIterator[Client]:
    client = await nats.connect(cluster.urls.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.5)
    yield client
    await client.close()


@pytest.fixture(scope="module")
async def stack(settings: Settings, cluster: NatsCluster, bundled_model: Path) -> AsyncIterator[Stack]:
    contexts: dict[str, ActorContext] = {}
    each = {name: worker_settings(settings) for name in ("adapters", "training", "inference", "gateway")}
    # the gateway and the worker start on different nodes (nats-py learns the others from the cluster), so
    # killing one's node cuts the path between them
    each["gateway"] = replace(each["gateway"], nats_url=cluster.nodes[0].url)
    each["inference"] = replace(each["inference"], nats_url=cluster.nodes[1].url)
    gateway = GatewayActor(each["gateway"], GatewayConfig(port=0))
    actors: list[tuple[str, Any]] = [
        ("adapters", AdaptersActor(each["adapters"], REGISTRY)),
        ("training", TrainingActor(each["training"], TINY)),
        ("inference", InferenceActor(each["inference"], InferenceConfig(max_concurrency=2, warm_up=False))),
        ("gateway", gateway),
    ]
    async with contextlib.AsyncExitStack() as stack:
        for name, actor in actors:
            contexts[name] = await stack.enter_async_context(running(actor, each[name]))
        yield Stack(contexts, f"http://127.0.0.1:{gateway.port}/graphql")


async def test_every_stream_bucket_and_object_store_keeps_three_copies(nc: Client, stack: Stack) -> None:
    found = {info.config.name: info for info in await nc.jetstream().streams_info()}
    for name in STORES:
        assert name in found, f"{name} was not created"
        info = found[name]
        assert info.config.num_replicas == 3, (name, info.config.num_replicas)
        assert info.cluster is not None and info.cluster.leader
        assert len(info.cluster.replicas or []) == 2, (name, info.cluster)


async def test_a_bucket_made_with_one_copy_is_raised_to_the_setting_and_never_lowered(
    nc: Client, cluster: NatsCluster
) -> None:
    js = nc.jetstream()
    await open_key_value(js, "raise-me", "test", 1, log, replicas=1)
    assert (await js.stream_info("KV_raise-me")).config.num_replicas == 1
    await open_key_value(js, "raise-me", "test", 1, log, replicas=3)
    assert (await js.stream_info("KV_raise-me")).config.num_replicas == 3
    deadline = time.monotonic() + 20
    while True:  # the new copies are made in the background: a leader and two current followers
        cluster_info = (await js.stream_info("KV_raise-me")).cluster
        assert cluster_info is not None
        followers = [peer for peer in cluster_info.replicas or [] if peer.current]
        if cluster_info.leader and len(followers) == 2:
            break
        assert time.monotonic() < deadline, cluster_info
        await asyncio.sleep(0.2)
    # a service started without NATS_REPLICAS beside the cluster leaves the copies alone
    await open_key_value(js, "raise-me", "test", 1, log, replicas=1)
    assert (await js.stream_info("KV_raise-me")).config.num_replicas == 3


async def test_three_copies_on_a_single_server_are_refused_with_the_reason() -> None:
    server = NatsServer()
    server.start()
    try:
        client = await nats.connect(server.url)
        with pytest.raises(SwitchboardError) as caught:
            await open_key_value(client.jetstream(), "adapters", "test", 1, log, replicas=3)
        await client.close()
    finally:
        server.cleanup()
    assert caught.value.code is ErrorCode.BAD_REQUEST
    assert "KV_adapters" in caught.value.message
    assert "NATS_REPLICAS=3 needs a NATS cluster with at least 3 JetStream nodes" in caught.value.message


@dataclass
class Answer:
    text: str
    error: dict[str, Any] | None  # the GraphQL error that ended the stream, if one did
    longest_pause_s: float  # the longest wait for a chunk after the fault (0 without one)
    ended_after_s: float  # from the fault to the stream's end


async def answer(url: str, max_new_tokens: int, fault: Callable[[], None] | None = None) -> Answer:
    """Stream an answer over the gateway's websocket; `fault()` runs once, after the first chunk."""
    text, error, fault_at, pauses = "", None, None, [0.0]
    async with Subscription(url, STREAM, {"p": PROMPT, "n": max_new_tokens}) as sub:
        last = time.monotonic()
        async for message in sub.messages(timeout=60):
            now = time.monotonic()
            if fault_at is not None:
                pauses.append(now - last)
            last = now
            if "errors" in message:
                error = message["errors"][0]
                break
            text += message["data"]["inferStream"]["token"]
            if fault is not None and fault_at is None:
                fault()
                fault_at = last = time.monotonic()
    return Answer(text, error, max(pauses), time.monotonic() - (fault_at or time.monotonic()))


@pytest.mark.parametrize("service", ["gateway", "inference"])
async def test_a_node_dying_mid_answer(service: str, cluster: NatsCluster, stack: Stack, nc: Client) -> None:
    """Kill -9 the node under the gateway (or the worker) after the first chunk: the answer finishes with the
    same text as without the fault (greedy decoding), or ends with a typed error within 5 s."""
    expected = await answer(stack.graphql_url, 60)
    assert expected.error is None and expected.text
    victim = stack.node_of(service, cluster)
    try:
        got = await answer(stack.graphql_url, 60, fault=lambda: cluster.kill(victim))
    finally:
        cluster.start(victim)
        print(f"every store whole again {await until_whole(nc):.1f}s after the node came back")
    print(
        f"node under the {service} killed mid-answer: error={got.error}, longest pause {got.longest_pause_s:.2f}s, "
        f"ended {got.ended_after_s:.2f}s after the kill"
    )
    if got.error is None:
        assert got.text == expected.text, "the answer lost or repeated text"
    else:
        assert got.error["extensions"]["code"] == "UNAVAILABLE", got.error
        assert expected.text.startswith(got.text)
    assert got.longest_pause_s < NOTICED_WITHIN_S, f"the client waited {got.longest_pause_s:.1f}s for a chunk"


async def test_no_adapter_active_choice_or_job_record_is_lost_with_a_node(
    cluster: NatsCluster, stack: Stack, nc: Client
) -> None:
    """A fine-tune job's record and its adapter (metadata and files), and the active choice, all readable
    after the node that leads their stream is killed."""
    job = await submitted(nc, spec(max_steps=2))
    record = await wait_for(nc, job.spec.job_id, timeout=240)
    assert record.state is JobState.SUCCEEDED and record.adapter, record
    adapter = record.adapter
    await set_active(nc, adapter)
    js = nc.jetstream()
    files = await (await js.object_store(subjects.ADAPTER_FILES_BUCKET)).get(adapter)

    async def read_state() -> tuple[JobRecord, list[str], bytes | None, bytes | None]:
        msg = await nc.request(subjects.TRAINING_JOB, encode(GetJob(job_id=job.spec.job_id)), timeout=2)
        after: JobReply = decode(msg.data, JobReply)  # type: ignore[arg-type]
        assert isinstance(after, JobRecord), after
        msg = await nc.request(subjects.ADAPTERS_LIST, encode(ListAdapters()), timeout=2)
        listed: AdapterReply = decode(msg.data, AdapterReply)  # type: ignore[arg-type]
        assert isinstance(listed, AdapterList), listed
        active = (await (await js.key_value(subjects.ADAPTERS_BUCKET)).get(subjects.ACTIVE_KEY)).value
        copy = (await (await js.object_store(subjects.ADAPTER_FILES_BUCKET)).get(adapter)).data
        return after, [a.name for a in listed.adapters], active, copy

    for stream in ("KV_adapters", "KV_training", "OBJ_adapter-files"):
        leader = (await js.stream_info(stream)).cluster.leader  # type: ignore[union-attr]
        victim = next(i for i, node in enumerate(cluster.nodes) if node.name == leader)
        cluster.kill(victim)
        killed_at = time.monotonic()
        try:
            while True:  # what a client sees meanwhile: a typed error or a timeout, until a new leader is elected
                try:
                    after, names, active, copy = await read_state()
                    break
                except (SwitchboardError, nats.errors.Error, AssertionError) as exc:
                    print(f"  after {time.monotonic() - killed_at:.2f}s: {exc!r}"[:200])
                    assert time.monotonic() - killed_at < RECOVERED_WITHIN_S, f"still failing: {exc!r}"
                    await asyncio.sleep(0.2)
            print(f"{stream}'s leader {leader} killed: all state read back after {time.monotonic() - killed_at:.2f}s")
        finally:
            cluster.start(victim)
            await until_whole(nc)
        assert after.state is JobState.SUCCEEDED and after.adapter == adapter
        assert adapter in names
        assert active == adapter.encode()
        assert copy == files.data
