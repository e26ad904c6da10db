"""Asking an inference worker whether it lives and still holds a request (`infer.ping.<worker_id>`): how the
relay and a resumed answer tell a silent worker from a dead one within a second."""

from __future__ import annotations

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from messages import subjects

from .token_relay import Liveness

PROBE_TIMEOUT_S = 1.0  # a live worker answers a liveness probe from its event loop in milliseconds


async def probe(nc: Client, worker_id: str, request_id: str) -> Liveness:
    """Whether worker `worker_id` lives and holds `request_id`: ACTIVE, UNKNOWN (alive, not holding it), GONE
    (no such worker), SILENT (no answer within `PROBE_TIMEOUT_S`, or our own connection is in trouble). Never
    raises."""
    try:
        reply = await nc.request(subjects.ping_subject(worker_id), request_id.encode(), timeout=PROBE_TIMEOUT_S)
    except NoRespondersError:
        return Liveness.GONE
    except (NatsTimeoutError, TimeoutError):
        return Liveness.SILENT
    except NatsError:
        return Liveness.SILENT  # our own connection is in trouble: not the worker's fault (yet)
    return Liveness.ACTIVE if reply.data == subjects.PING_ACTIVE else Liveness.UNKNOWN
