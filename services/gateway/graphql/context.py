"""GraphQL's context: one request's (or one websocket's) shared clients and generation layer, the caller's key,
and the checks made with it (a key at all, an admin key); and the record of a mutation's refusal for metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.types import Info

from messages import (
    ErrorCode,
    SwitchboardError,
)

from ..clients import Clients
from ..generation import Generations
from ..http.keys import Role
from ..http.metrics import GatewayMetrics
from .websocket import completed_by_client


@dataclass
class Context:
    """One request's (or one websocket's): the shared clients and generation layer, and the caller's key."""

    clients: Clients
    generations: Generations
    role: Role | None = Role.ADMIN  # None: no key (only open fields are reached)
    key_id: str = ""  # the caller's key's id (http/keys.key_id), "" without keys: the owner of the answers it asks for
    keys_required: bool = False
    connection_params: dict[str, object] | None = None  # a websocket's connection_init payload
    metrics: GatewayMetrics | None = None
    refused: dict[str, str] = field(default_factory=dict)  # root field -> error code it answered `ok: false` with
    websocket: bool = False  # the operation runs on a websocket (a subscription), not over HTTP

    @property
    def reader(self) -> str | None:
        """Whose answers the caller may read back: None for every one (an admin key, or no keys), else the
        answers its own key asked for."""
        return None if self.role is Role.ADMIN else self.key_id

    def may_resume(self) -> bool:
        """Whether a generation this operation leaves unfinished should wait for `inferResume`: on a websocket,
        unless the client stopped the operation itself (graphql-ws `complete`)."""
        return self.websocket and not completed_by_client()


def require_admin(info: Info[Context, None], what: str) -> None:
    """Raises SwitchboardError (FORBIDDEN) unless the caller's key is an admin key (any caller without keys)."""
    if info.context.role is not Role.ADMIN:
        raise SwitchboardError(ErrorCode.FORBIDDEN, f"{what} needs an admin key; this key may chat and read only")


def note_refusal(info: Info[Context, None], exc: SwitchboardError) -> None:
    """A mutation that answers `ok: false` is counted under its error code, not as `ok`."""
    info.context.refused[info.field_name] = exc.code.value


def authenticated(info: Info[Context, None]) -> Context:
    """The request's context, once its caller is known to have a key where one is needed.

    Raises:
        SwitchboardError: UNAUTHENTICATED when the caller has no key where one is needed (the HTTP and
            websocket doors refuse such callers before; this is the last line).
    """
    if info.context.role is None:
        raise SwitchboardError(ErrorCode.UNAUTHENTICATED, "this gateway needs an API key")
    return info.context
