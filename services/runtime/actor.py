"""The actor life cycle: connect, register as a NATS micro service, run, stop cleanly on a signal."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import ClassVar

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.micro import add_service
from nats.micro.service import Service
from prometheus_client import CollectorRegistry

from messages import ErrorCode, SwitchboardError

from .connection import connect
from .logs import get_logger, setup_logging
from .metrics import MetricsResponder
from .settings import Settings


@dataclass
class ActorContext:
    """What an actor gets when it starts."""

    nc: Client
    js: JetStreamContext
    service: Service
    settings: Settings
    log: logging.Logger
    metrics: MetricsResponder  # `metrics.registry` holds this instance's figures; answered on `metrics.scrape`


class Actor(abc.ABC):
    """One Switchboard service. Subclasses add their endpoints and subscriptions in `start`."""

    name: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[str] = "0.1.0"

    @abc.abstractmethod
    async def start(self, ctx: ActorContext) -> None:
        """Create owned streams/buckets, add endpoints, subscribe. Return once serving."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Finish or visibly fail in-flight work. Called before the connection drains."""

    def metadata(self) -> dict[str, str]:
        return {}


@contextlib.asynccontextmanager
async def running(actor: Actor, settings: Settings) -> AsyncIterator[ActorContext]:
    """Run `actor` for the duration of the block (used by `main` and by tests)."""
    log = get_logger(actor.name)
    nc = await connect(settings, f"switchboard-{actor.name}-{settings.worker_id}", log)
    service: Service | None = None
    try:
        service = await add_service(
            nc,
            name=actor.name,
            version=actor.version,
            description=actor.description,
            metadata={"worker_id": settings.worker_id, **actor.metadata()},
        )
        metrics = MetricsResponder(CollectorRegistry(auto_describe=True), actor.name, settings.worker_id, log)
        ctx = ActorContext(nc=nc, js=nc.jetstream(), service=service, settings=settings, log=log, metrics=metrics)
        await actor.start(ctx)
        await metrics.start(nc)
        await nc.flush()  # the server has every subscription before anyone is told we serve
        log.info("serving", extra={"nats": settings.nats_url, "worker_id": settings.worker_id})
        try:
            yield ctx
        finally:
            await metrics.stop()
            await actor.stop()
    finally:
        if service is not None:
            with contextlib.suppress(Exception):
                await service.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.drain(), timeout=10)
        if not nc.is_closed:
            await nc.close()
        log.info("stopped")


async def serve(actor: Actor, settings: Settings, stop: asyncio.Event) -> None:
    """Run until `stop` is set. A stop that arrives while the actor is still starting (loading a model,
    waiting for NATS) cancels the start instead of waiting for it."""
    started = asyncio.Event()

    async def run() -> None:
        async with running(actor, settings):
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not task.done() and not started.is_set():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        get_logger(actor.name).info("stopped while starting")
        return
    stopping.cancel()
    await task


EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: the configuration is wrong; starting again will not help


def exit_code(exc: SwitchboardError) -> int:
    """`EXIT_CONFIG` for a refused setting (BAD_REQUEST: a bad variable, NATS refusing NATS_REPLICAS), 1 for
    what may pass (NATS not reachable yet)."""
    return EXIT_CONFIG if exc.code is ErrorCode.BAD_REQUEST else 1


def main(
    factory: Callable[[Settings], Actor], loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
) -> None:
    """Entry point for `python -m services.<name>`: exit 0 on SIGTERM/SIGINT; on a startup failure, exit
    `EXIT_CONFIG` (78) when the configuration is wrong and 1 otherwise (see `exit_code`).

    `loop_factory` makes the event loop (default: asyncio's own), e.g. `uvloop.new_event_loop`.
    """
    setup_logging(os.environ.get("LOG_LEVEL", "INFO").upper(), os.environ.get("LOG_FORMAT", "text").lower())
    try:
        settings = Settings.from_env()
    except SwitchboardError as exc:
        logging.getLogger("switchboard").error("cannot start: %s", str(exc))
        sys.exit(exit_code(exc))
    setup_logging(settings.log_level, settings.log_format)

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(factory(settings), settings, stop)

    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(_run())
    except SwitchboardError as exc:
        logging.getLogger("switchboard").error("cannot start: %s", str(exc))
        sys.exit(exit_code(exc))
