"""One NATS request from the gateway to a service, with its failures turned into typed errors."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from messages import ErrorCode, SwitchboardError

# A worker that has just subscribed can, for a moment, be reported as "no responders"; retrying
# briefly covers that and still tells the user within a fraction of a second when none runs.
NO_RESPONDER_RETRIES = (0.05, 0.2, 0.5)
NATS_LOST = "the gateway has lost its connection to NATS and is reconnecting; try again in a moment"


async def request(nc: Client, subject: str, payload: bytes, *, timeout_s: float, absent: str, what: str) -> bytes:
    """`absent` is the message when no service listens; `what` names the service in a timeout.

    A request made while the gateway's own NATS connection is down waits (nats-py sends it once it is back,
    as after a NATS node dies and it moves to another); if the time runs out with the connection still down,
    the error is UNAVAILABLE and says so, rather than blaming the service."""
    for delay in (*NO_RESPONDER_RETRIES, None):
        try:
            msg = await nc.request(subject, payload, timeout=timeout_s)
        except NoRespondersError as exc:
            if delay is None:
                raise SwitchboardError(ErrorCode.UNAVAILABLE, absent) from exc
            await asyncio.sleep(delay)
            continue
        except NatsTimeout as exc:
            if not nc.is_connected:
                raise SwitchboardError(ErrorCode.UNAVAILABLE, NATS_LOST) from exc
            raise SwitchboardError(ErrorCode.TIMEOUT, f"{what} did not answer within {timeout_s:g}s") from exc
        return bytes(msg.data)
    raise AssertionError("unreachable")
