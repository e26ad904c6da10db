"""One request/reply call to another service, its failures as typed errors (every cross-service call uses it).

`call(nc, subject, request, ok, timeout_s=…, peer=…)` encodes `request`, sends it, and decodes the answer as
`ok | ErrorMessage`: `ok` is returned, an `ErrorMessage` raised as the `SwitchboardError` it carries. What
can go wrong on the way is one of three codes, whichever service is called:

- nobody listens (NATS "no responders", after a few brief retries: a worker that has just subscribed can be
  reported absent for a moment) → UNAVAILABLE, `peer.absent` ("the training service is not running; …");
- nobody answers in `timeout_s` → TIMEOUT ("the adapter registry did not answer within 5s"), or UNAVAILABLE
  when the caller's own NATS connection is down (nats-py sends a request made while reconnecting once it is
  back; if the time runs out first, the caller's link is to blame, not the service);
- an answer that is neither `ok` nor an error → INTERNAL.

The model is nats.py's one exception class per failure and httpx's one exception module: callers catch
`SwitchboardError` and read its `code`, never the text.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import msgspec
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from messages import ErrorCode, ErrorMessage, SwitchboardError, encode

T = TypeVar("T")

# A worker that has just subscribed can, for a moment, be reported as "no responders"; retrying briefly
# covers that and still tells the user within a fraction of a second when none runs (seconds between tries).
NO_RESPONDER_RETRIES = (0.05, 0.2, 0.5)
NATS_LOST = "this part of Switchboard has lost its connection to NATS and is reconnecting; try again in a moment"


@dataclass(frozen=True)
class Peer:
    """The service a call goes to, as its errors name it: `what` in a timeout ("the adapter registry did not
    answer within 5s"), `absent` when nobody listens."""

    what: str
    absent: str

    @classmethod
    def service(cls, what: str, module: str) -> Peer:
        """A service started with `python -m services.<module>`: "`what` is not running; start it with …"."""
        return cls(what, f"{what} is not running; start it with `python -m services.{module}` (`just up` does)")


INFERENCE = Peer(
    "no inference worker (all overloaded?); the inference service",
    "no inference worker is running; start one with `python -m services.inference` (`just up` does)",
)
ADAPTERS = Peer.service("the adapter registry", "adapters")
TRAINING = Peer.service("the training service", "training")
SEARCH = Peer("web search", Peer.service("the search service", "search").absent)


async def request(nc: Client, subject: str, payload: bytes, *, timeout_s: float, peer: Peer) -> bytes:
    """The raw answer to `payload` on `subject`.

    Raises:
        SwitchboardError: UNAVAILABLE (nobody listens, or this process's NATS link is down), TIMEOUT.
    """
    for delay in (*NO_RESPONDER_RETRIES, None):
        try:
            msg = await nc.request(subject, payload, timeout=timeout_s)
        except NoRespondersError as exc:
            if delay is None:
                raise SwitchboardError(ErrorCode.UNAVAILABLE, peer.absent) from exc
            await asyncio.sleep(delay)
            continue
        except NatsTimeout as exc:
            if not nc.is_connected:
                raise SwitchboardError(ErrorCode.UNAVAILABLE, NATS_LOST) from exc
            raise SwitchboardError(ErrorCode.TIMEOUT, f"{peer.what} did not answer within {timeout_s:g}s") from exc
        return bytes(msg.data)
    raise AssertionError("unreachable")


async def call(nc: Client, subject: str, message: object, ok: type[T], *, timeout_s: float, peer: Peer) -> T:
    """Send `message` (a wire struct, or bytes as they are) and return the answer as `ok`.

    Raises:
        SwitchboardError: the service's own refusal (its code, message and field), or as `request` and
            `answer` say.
    """
    payload = message if isinstance(message, bytes) else encode(message)
    return answer(await request(nc, subject, payload, timeout_s=timeout_s, peer=peer), ok, peer)


def answer(data: bytes, ok: type[T], peer: Peer) -> T:
    """`data` as `ok`, or the `ErrorMessage` in it raised as a SwitchboardError.

    Raises:
        SwitchboardError: the refusal carried; INTERNAL for an answer that is neither.
    """
    try:
        reply = _decoder(ok).decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise SwitchboardError(ErrorCode.INTERNAL, f"{peer.what} answered something unreadable ({exc})") from exc
    if isinstance(reply, ErrorMessage):
        raise SwitchboardError.from_message(reply)
    return cast(T, reply)


class _Kind(msgspec.Struct):
    """Only the tag of an answer whose `ok` type has none (ModelInfo): is it an error?"""

    type: str | None = None


class _Untagged:
    """Decodes `ok | ErrorMessage` where msgspec cannot tell them apart by type (`ok` is not a tagged struct):
    the `type` field first, then the one that it names."""

    def __init__(self, ok: type[Any]) -> None:
        self._kind = msgspec.json.Decoder(_Kind)
        self._ok = msgspec.json.Decoder(ok)
        self._error = msgspec.json.Decoder(ErrorMessage)

    def decode(self, data: bytes) -> object:
        if self._kind.decode(data).type == "error":
            return self._error.decode(data)
        return self._ok.decode(data)


_decoders: dict[type[Any], msgspec.json.Decoder[Any] | _Untagged] = {}


def _decoder(ok: type[Any]) -> msgspec.json.Decoder[Any] | _Untagged:
    """One decoder per `ok` type, made on first use."""
    decoder = _decoders.get(ok)
    if decoder is None:
        config = getattr(ok, "__struct_config__", None)
        tagged = config is not None and config.tag is not None
        decoder = _decoders[ok] = msgspec.json.Decoder(ok | ErrorMessage) if tagged else _Untagged(ok)
    return decoder
