"""The gateway: GraphQL (strawberry on aiohttp) and the OpenAI-compatible API over one generation layer, API keys,
CORS and /metrics; it talks to the services only over NATS. Folders by role: clients/, graphql/, openai/, http/."""

from .config import GatewayConfig
from .graphql.schema import schema
from .service import GatewayActor

__all__ = ["GatewayActor", "GatewayConfig", "schema"]
