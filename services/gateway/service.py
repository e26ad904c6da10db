"""The gateway actor: serves GraphQL, the OpenAI API and /metrics on :8080, answers workers' requester pings, and
registers with NATS micro like every actor."""

from __future__ import annotations

from typing import ClassVar

from aiohttp import web

from messages import subjects
from services.runtime import Actor, ActorContext, Settings

from .clients.answer_owners import AnswerOwners
from .clients.inference import InferenceClient
from .config import GatewayConfig
from .http.app import build_app
from .http.metrics import GatewayMetrics


class GatewayActor(Actor):
    name: ClassVar[str] = subjects.GATEWAY_SERVICE
    description: ClassVar[str] = "GraphQL API (HTTP and graphql-transport-ws) in front of the NATS services"

    def __init__(self, settings: Settings, config: GatewayConfig | None = None) -> None:
        self.config = config or GatewayConfig.from_env()
        self.config.check_exposure()  # before connecting: refuse an open gateway on the network at once
        self._runner: web.AppRunner | None = None
        self.port = self.config.port

    def metadata(self) -> dict[str, str]:
        return {"graphql": f"http://{self.config.host}:{self.config.port}/graphql"}

    async def start(self, ctx: ActorContext) -> None:
        # handler_cancellation: an HTTP client that goes away cancels its request, so an abandoned `infer` stops
        # its generation (the stream's cleanup publishes the cancel) instead of holding a slot to the end
        metrics = GatewayMetrics(ctx.metrics.registry)
        instance = ctx.settings.worker_id
        owners = AnswerOwners(ctx.nc, instance, self.config.answers_max_age_s, ctx.settings.nats_replicas)
        await owners.open()  # KV `answers`: who asked for each answer (request ids reserved across gateways)
        inference = InferenceClient(ctx.nc, self.config, metrics, requester=instance, owners=owners)
        await inference.answer_requester_pings()  # workers stop what this gateway no longer wants, even if it dies
        self._runner = web.AppRunner(
            build_app(ctx.nc, self.config, metrics, inference),
            access_log=None,
            shutdown_timeout=5,
            handler_cancellation=True,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])  # the real port when 0 asked for any free one
        ctx.log.info("graphql listening", extra={"url": f"http://{self.config.host}:{self.port}/graphql"})
        keys = self.config.keys
        if keys.enabled:
            ctx.log.info("API keys required", extra={"admin_keys": len(keys.admin), "user_keys": len(keys.user)})
        else:
            ctx.log.warning(
                "no API keys: every caller that reaches this port is an admin; set GATEWAY_ADMIN_KEYS and "
                "GATEWAY_USER_KEYS (or their _FILE variants) to require keys"
            )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # closes websockets: their generations are cancelled
