"""`python -m services.gateway`: run the GraphQL gateway."""

from services.runtime import main

from .service import GatewayActor

main(GatewayActor)
