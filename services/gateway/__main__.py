"""`python -m services.gateway`: run the GraphQL gateway.

On uvloop (libuv): relaying a token costs the gateway 10-25% less CPU than on asyncio's own loop
(`bench.relay`, paced 1 ms: 50 against 56-60 ms per 1,000 chunks at 16 streams, 229 against 306 at one).
"""

import uvloop

from services.runtime import main

from .service import GatewayActor

main(GatewayActor, loop_factory=uvloop.new_event_loop)
