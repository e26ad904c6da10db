"""Each service instance's Prometheus figures, answered over NATS so one scrape of a gateway's `/metrics`
reaches every instance of every service.

Every actor keeps its own `prometheus_client.CollectorRegistry` (several actors share one process in
tests) and subscribes to `metrics.scrape` without a queue group: a request there gets one reply per
instance, the registry in Prometheus's text format, with NATS headers naming the service and instance.
`gather` is the other side: it asks, collects the replies for a moment, and merges them into one
exposition with `service` and `instance` labels on every sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from messages import subjects

disable_created_metrics()  # type: ignore[no-untyped-call]  # a `_created` series per counter says when a process started counting: noise here
SERVICE_HEADER = "Switchboard-Service"
INSTANCE_HEADER = "Switchboard-Instance"
Refresh = Callable[[], Awaitable[None]]


class MetricsResponder:
    """Answers `metrics.scrape` with `registry`; `refresh` runs first (figures read from KV, for example)."""

    def __init__(self, registry: CollectorRegistry, service: str, instance: str, log: logging.Logger) -> None:
        self.registry = registry
        self._headers = {SERVICE_HEADER: service, INSTANCE_HEADER: instance}
        self._refreshers: list[Refresh] = []
        self._log = log
        self._sub: Subscription | None = None
        self._nc: Client | None = None

    def before_scrape(self, refresh: Refresh) -> None:
        """Run `refresh` before each answer (errors are logged, the answer goes out anyway)."""
        self._refreshers.append(refresh)

    async def start(self, nc: Client) -> None:
        self._nc = nc
        self._sub = await nc.subscribe(subjects.METRICS_SCRAPE, cb=self._on_scrape)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _on_scrape(self, msg: Msg) -> None:
        if not msg.reply or self._nc is None:
            return
        for refresh in self._refreshers:
            try:
                await refresh()
            except Exception as exc:  # a figure that cannot be read now must not hide all the others
                self._log.warning("metrics refresh failed", extra={"error": repr(exc)})
        with contextlib.suppress(Exception):
            await self._nc.publish(msg.reply, generate_latest(self.registry), headers=self._headers)


async def gather(nc: Client, wait_s: float) -> bytes:
    """Every instance's figures, merged into one exposition (Prometheus text format 0.0.4).

    Replies are collected for `wait_s` seconds (instances are not counted ahead: any that answers in time
    is in); each sample gets `service` and `instance` labels from its reply's headers.
    """
    inbox = nc.new_inbox()
    replies: list[Msg] = []
    sub = await nc.subscribe(inbox, cb=_append_to(replies))
    try:
        await nc.publish(subjects.METRICS_SCRAPE, b"", reply=inbox)
        await nc.flush()
        await asyncio.sleep(wait_s)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(replies))
    return generate_latest(registry)


def _append_to(replies: list[Msg]) -> Callable[[Msg], Awaitable[None]]:
    async def on_reply(msg: Msg) -> None:
        replies.append(msg)

    return on_reply


class _Merged(Collector):
    """The families of several replies, one family per name, samples labelled by where they came from."""

    def __init__(self, replies: list[Msg]) -> None:
        self._replies = replies

    def collect(self) -> list[Metric]:
        families: dict[str, Metric] = {}
        for reply in self._replies:
            headers = reply.headers or {}
            where = {"service": headers.get(SERVICE_HEADER, "unknown"), "instance": headers.get(INSTANCE_HEADER, "")}
            try:
                parsed = list(text_string_to_metric_families(reply.data.decode()))
            except (ValueError, UnicodeDecodeError):
                continue  # not an exposition: an instance of something else answered
            for family in parsed:
                if not family.samples:
                    continue  # a labelled figure nothing has counted yet
                merged = families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    if sample.name.endswith("_created"):
                        continue  # creation times of each instance's series say nothing here
                    merged.samples.append(sample._replace(labels={**sample.labels, **where}))
        return list(families.values())
