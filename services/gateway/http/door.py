"""Keys at the HTTP door: a request without a valid key gets 401 before GraphQL runs (`{ health }` excepted).

The role found, and the key's id (`keys.key_id`, the owner of the answers it asks for), are left on the
request (`ROLE`, `KEY_ID`) for the GraphQL context and the OpenAI routes; which fields a role may call
is decided in the schema (`keys.USER_FIELDS` / `ADMIN_FIELDS`). Websocket upgrades pass through: their
key comes in `connection_init` (see `app.SwitchboardView.on_ws_connect`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from graphql import FieldNode, GraphQLError, OperationType, get_operation_ast

from ..graphql.websocket import parse_document
from .keys import OPEN_FIELDS, ApiKeys, Role, bearer_key, key_id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROLE = web.RequestKey("switchboard.role", Role)
KEY_ID = web.RequestKey("switchboard.key_id", str)

NO_KEY = (
    "this gateway needs an API key: send `Authorization: Bearer <key>` "
    '(over a websocket: `{"Authorization": "Bearer <key>"}` in the connection_init payload)'
)
WRONG_KEY = "the API key is not valid"


def unauthenticated(message: str, path: str = "/graphql") -> web.Response:
    """401 in the shape of the API asked: OpenAI's error object under /v1, a GraphQL error elsewhere."""
    body: dict[str, object]
    if path.startswith("/v1/"):
        error = {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}
        body = {"error": error}
    else:
        body = {"data": None, "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    return web.json_response(body, status=401, headers={"WWW-Authenticate": 'Bearer realm="switchboard"'})


def access_middleware(keys: ApiKeys, open_paths: frozenset[str] = frozenset()) -> Middleware:
    """401 for a missing or wrong key on every HTTP request but `{ health }`, CORS preflights, the index,
    `open_paths` (`/metrics` with GATEWAY_METRICS_OPEN) and websocket upgrades; the role of a valid key
    is stored under `request[ROLE]`, its id under `request[KEY_ID]`."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" or request.path == "/" or request.path in open_paths or _is_websocket(request):
            return await handler(request)
        header = request.headers.get("Authorization")
        if header is not None:
            key = bearer_key(header)
            role = None if key is None else keys.role_of(key)
            if key is None or role is None:
                return unauthenticated(WRONG_KEY if key else NO_KEY, request.path)
            request[ROLE] = role
            request[KEY_ID] = key_id(key)
            return await handler(request)
        if request.path == "/graphql" and await _asks_only_open_fields(request):
            return await handler(request)
        return unauthenticated(NO_KEY, request.path)

    return middleware


def caller_of_request(keys: ApiKeys, request: web.Request) -> tuple[Role, str] | None:
    """The role and key id a request carries: its checked key's, the header's on a websocket upgrade, else None."""
    if ROLE in request:
        return request[ROLE], request[KEY_ID]
    key = bearer_key(request.headers.get("Authorization"))
    role = None if key is None else keys.role_of(key)
    return None if role is None or key is None else (role, key_id(key))


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def _asks_only_open_fields(request: web.Request) -> bool:
    """Whether the request is a GraphQL query whose root fields are all open (`health`, `__typename`)."""
    params: Any
    if request.method == "GET":
        params = dict(request.query)
    elif request.method == "POST" and request.content_type == "application/json":
        try:
            params = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply (json_body.py)
            return False
    else:
        return False
    if not isinstance(params, dict) or not isinstance(params.get("query"), str):
        return False
    name = params.get("operationName")
    try:
        operation = get_operation_ast(parse_document(params["query"]), name if isinstance(name, str) else None)
    except GraphQLError:
        return False
    if operation is None or operation.operation is not OperationType.QUERY:
        return False
    selections = operation.selection_set.selections
    return all(isinstance(s, FieldNode) and s.name.value in OPEN_FIELDS for s in selections)
