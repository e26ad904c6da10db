"""The GraphQL gateway: strawberry on aiohttp, talking to the services only over NATS."""

from .config import GatewayConfig
from .graphql.schema import schema
from .service import GatewayActor

__all__ = ["GatewayActor", "GatewayConfig", "schema"]
