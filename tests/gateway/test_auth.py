"""API keys at the gateway: 401 without one (but `{ health }`), two roles, the same over websockets.

A gateway with one admin and one user key, on a module's own nats-server with a scripted inference
worker (no model): what matters here is who gets through, not what the model says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from messages import ErrorCode, GenerateRequest, SwitchboardError
from services.gateway import GatewayConfig
from services.gateway.graphql.schema import schema
from services.gateway.http.keys import ADMIN_FIELDS, OPEN_FIELDS, USER_FIELDS, ApiKeys, Role, bearer_key
from services.runtime import Settings
from tests.conftest import NatsServer
from tests.support.gateway import gateway
from tests.support.scripted_worker import Script, ScriptedWorker, scripted_worker

ADMIN = "admin-key-0123456789abcdef"
USER = "user-key-0123456789abcdef"
STREAM = 'subscription { inferStream(prompt: "hello") { token done } }'
ORIGIN = "http://localhost:3000"
ADMIN_MUTATIONS = {
    "startFineTune": 'startFineTune(adapterName: "x") { ok errorCode error }',
    "cancelFineTune": 'cancelFineTune(jobId: "j") { ok errorCode error }',
    "deleteFineTuneJob": 'deleteFineTuneJob(jobId: "j") { ok errorCode error }',
    "loadAdapter": 'loadAdapter(adapterName: "x") { ok errorCode error }',
    "useBaseModel": "useBaseModel { ok errorCode error }",
    "deleteAdapter": 'deleteAdapter(adapterName: "x") { ok errorCode error }',
}


def echo(request: GenerateRequest) -> Script:
    assert request.prompt is not None
    return Script(tokens=list(request.prompt))


@pytest.fixture(scope="module")
async def worker(own_nats: NatsServer) -> AsyncIterator[ScriptedWorker]:
    async with scripted_worker(own_nats.url, echo) as scripted:
        yield scripted


@pytest.fixture(scope="module")
async def url(own_settings: Settings, worker: ScriptedWorker) -> AsyncIterator[str]:
    keys = ApiKeys.of(admin=[ADMIN], user=[USER])
    async with gateway(own_settings, keys=keys, max_subscriptions=2, max_message_bytes=4096) as graphql_url:
        yield graphql_url


async def call(
    url: str, query: str, key: str | None = None, header: str | None = None, **extra: Any
) -> tuple[int, dict[str, Any], Any]:
    headers = {"Origin": ORIGIN}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if header is not None:
        headers["Authorization"] = header
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"query": query, **extra}, headers=headers) as response:
            return response.status, await response.json(), response.headers


async def test_no_key_is_401_unauthenticated(url: str) -> None:
    status, body, headers = await call(url, "{ modelInfo { modelId } }")
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in body["errors"][0]["message"]
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert headers["Access-Control-Allow-Origin"] == ORIGIN  # the web app can read the 401


@pytest.mark.parametrize("header", [f"Bearer {ADMIN}x", "Bearer ", f"Basic {ADMIN}", ADMIN, "Bearer short"])
async def test_a_wrong_or_malformed_key_is_401(url: str, header: str) -> None:
    status, body, _ = await call(url, "{ health }", header=header)
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_health_stays_open(url: str) -> None:
    assert (await call(url, "{ health }"))[:2] == (200, {"data": {"health": "ok"}})
    assert (await call(url, "{ health __typename }"))[0] == 200
    both = "query Probe { health } query Info { modelInfo { modelId } }"
    assert (await call(url, both, operationName="Probe"))[0] == 200
    assert (await call(url, both, operationName="Info"))[0] == 401
    assert (await call(url, "{ health modelInfo { modelId } }"))[0] == 401
    assert (await call(url, "{ ...F } fragment F on Query { health }"))[0] == 401  # only plain fields are open
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params={"query": "{ health }"}) as response:
            assert response.status == 200


async def test_a_user_key_chats_and_reads(url: str) -> None:
    status, body, _ = await call(url, 'mutation { infer(prompt: "hi there") { text } }', USER)
    assert (status, body) == (200, {"data": {"infer": {"text": "hi there"}}})
    status, body, _ = await call(url, "{ access { role keysRequired } }", USER)
    assert body == {"data": {"access": {"role": "user", "keysRequired": True}}}


@pytest.mark.parametrize("name", sorted(ADMIN_MUTATIONS))
async def test_a_user_key_may_not_change_the_server(url: str, name: str) -> None:
    status, body, _ = await call(url, f"mutation {{ {ADMIN_MUTATIONS[name]} }}", USER)
    assert status == 200
    result = body["data"][name]
    assert result["ok"] is False and result["errorCode"] == "FORBIDDEN", result
    assert "admin key" in result["error"]


@pytest.mark.parametrize("name", sorted(ADMIN_MUTATIONS))
async def test_an_admin_key_gets_past_the_role_check(url: str, name: str) -> None:
    status, body, _ = await call(url, f"mutation {{ {ADMIN_MUTATIONS[name]} }}", ADMIN)
    assert status == 200
    assert body["data"][name]["errorCode"] != "FORBIDDEN"  # refused for other reasons: no registry, no trainer
    _, body, _ = await call(url, "{ access { role } }", ADMIN)
    assert body["data"]["access"]["role"] == "admin"


async def open_socket(
    session: aiohttp.ClientSession, url: str, header_key: str | None = None
) -> aiohttp.ClientWebSocketResponse:
    headers = {"Origin": ORIGIN, **({"Authorization": f"Bearer {header_key}"} if header_key else {})}
    return await session.ws_connect(url.replace("http", "ws"), protocols=("graphql-transport-ws",), headers=headers)


async def closed_with(url: str, payload: dict[str, Any] | None) -> int | None:
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, url)
        await ws.send_json({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        await ws.close()
        return ws.close_code


@pytest.mark.parametrize(
    "payload", [None, {}, {"Authorization": "Bearer nope-nope-nope-nope"}, {"Authorization": USER}]
)
async def test_a_websocket_without_a_valid_key_is_closed_4403(url: str, payload: dict[str, Any] | None) -> None:
    assert await closed_with(url, payload) == 4403


async def stream_text(ws: aiohttp.ClientWebSocketResponse, operation_id: str) -> str:
    text = ""
    while True:
        message = await ws.receive_json(timeout=10)
        assert message["id"] == operation_id, message
        if message["type"] == "complete":
            return text
        assert message["type"] == "next", message
        text += message["payload"]["data"]["inferStream"]["token"]


async def test_a_websocket_with_a_key_in_connection_init_streams(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, url)
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {USER}"}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": STREAM}})
        assert await stream_text(ws, "1") == "hello"
        # a user key over a websocket is a user key: mutations there are refused too
        query = f"mutation {{ {ADMIN_MUTATIONS['useBaseModel']} }}"
        await ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": query}})
        message = await ws.receive_json(timeout=5)
        assert message["payload"]["data"]["useBaseModel"]["errorCode"] == "FORBIDDEN"
        await ws.close()


async def test_a_key_on_the_upgrade_request_works_too(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, url, header_key=ADMIN)
        await ws.send_json({"type": "connection_init"})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.close()


async def test_a_wrong_key_in_connection_init_wins_over_a_good_header(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, url, header_key=ADMIN)
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": "Bearer wrong-key-000000000000"}})
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await ws.close()
        assert ws.close_code == 4403


async def test_a_body_too_large_without_a_key_is_a_json_error(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=b"x" * 10_000, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 413
            body = await response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_body_nested_too_deeply_without_a_key_is_401_not_a_crash(url: str) -> None:
    deep = b'{"query": "{ health }", "variables": {"x": ' + b"[" * 3000 + b"}"  # under the 4096-byte limit
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=deep, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 401


async def test_past_the_operation_cap_a_subscribe_is_refused_and_the_socket_stays(url: str) -> None:
    slow = 'subscription { inferStream(prompt: "' + "x" * 200 + '") { token } }'
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, url)
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {USER}"}})
        await ws.receive_json(timeout=5)
        for operation_id in ("a", "b", "c"):
            await ws.send_json({"id": operation_id, "type": "subscribe", "payload": {"query": slow}})
        errors = []
        completed = set()
        while len(completed) < 2:
            message = await ws.receive_json(timeout=10)
            if message["type"] == "error":
                errors.append(message)
            elif message["type"] == "complete":
                completed.add(message["id"])
        assert [e["id"] for e in errors] == ["c"]
        assert errors[0]["payload"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
        await ws.send_json({"id": "d", "type": "subscribe", "payload": {"query": STREAM}})
        assert await stream_text(ws, "d") == "hello"  # room again once the two completed
        await ws.close()


async def test_an_oversized_message_gets_an_error_not_a_closed_socket(url: str) -> None:
    huge = 'subscription { inferStream(prompt: "' + "y" * 5000 + '") { token } }'  # over the 4096-byte limit
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, url)
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {USER}"}})
        await ws.receive_json(timeout=5)
        await ws.send_json({"id": "big", "type": "subscribe", "payload": {"query": huge}})
        message = await ws.receive_json(timeout=5)
        assert message["type"] == "error" and message["id"] == "big"
        assert message["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "4096" in message["payload"][0]["message"]
        await ws.send_json({"id": "ok", "type": "subscribe", "payload": {"query": STREAM}})
        assert await stream_text(ws, "ok") == "hello"
        await ws.close()


async def test_keys_never_reach_the_logs(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await call(url, "{ modelInfo { modelId } }", ADMIN + "-wrong")
    await call(url, 'mutation { startFineTune(adapterName: "x") { ok } }', USER)
    await closed_with(url, {"Authorization": f"Bearer {USER}-wrong"})
    await asyncio.sleep(0.1)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert ADMIN not in logged and USER not in logged


def test_every_root_field_has_a_role() -> None:
    fields = {
        name
        for root in (schema._schema.query_type, schema._schema.mutation_type, schema._schema.subscription_type)
        if root is not None
        for name in root.fields
    }
    assert fields == USER_FIELDS | ADMIN_FIELDS
    assert not USER_FIELDS & ADMIN_FIELDS
    assert OPEN_FIELDS - {"__typename"} <= USER_FIELDS
    assert set(schema._schema.mutation_type.fields) - {"infer"} == ADMIN_FIELDS  # type: ignore[union-attr]


def test_keys_from_variables_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "admin-keys"
    secret.write_text(
        "# rotated 2026-11\nfile-admin-key-0123456789\n\nsecond-admin-key-012345, third-admin-key-0123456\n"
    )
    monkeypatch.setenv("GATEWAY_ADMIN_KEYS_FILE", str(secret))
    monkeypatch.setenv("GATEWAY_USER_KEYS", f"{USER}, other-user-key-0123456789")
    keys = ApiKeys.from_env()
    assert len(keys.admin) == 3 and len(keys.user) == 2
    assert keys.role_of("second-admin-key-012345") is Role.ADMIN
    assert keys.role_of(USER) is Role.USER
    assert keys.role_of(USER + " ") is None and keys.role_of("") is None
    monkeypatch.setenv("GATEWAY_ADMIN_KEYS_FILE", str(tmp_path / "missing"))
    with pytest.raises(SwitchboardError, match=r"GATEWAY_ADMIN_KEYS_FILE=.*cannot read it"):
        ApiKeys.from_env()


@pytest.mark.parametrize("content", ["", "# only a comment\n", "\n , ,\n"])
def test_a_key_file_that_holds_no_key_is_refused_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    secret = tmp_path / "keys"
    secret.write_text(content)
    monkeypatch.setenv("GATEWAY_ADMIN_KEYS_FILE", str(secret))
    with pytest.raises(SwitchboardError, match="holds no key"):
        ApiKeys.from_env()


def test_a_key_file_with_a_byte_order_mark_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved by a Windows editor: the BOM is not part of the first key (it used to make it never match)."""
    secret = tmp_path / "keys"
    secret.write_bytes(b"\xef\xbb\xbffile-admin-key-0123456789\r\nsecond-admin-key-012345\r\n")
    monkeypatch.setenv("GATEWAY_ADMIN_KEYS_FILE", str(secret))
    keys = ApiKeys.from_env()
    assert keys.role_of("file-admin-key-0123456789") is Role.ADMIN
    assert keys.role_of("second-admin-key-012345") is Role.ADMIN


@pytest.mark.parametrize(
    ("content", "line", "char"),
    [
        ("good-admin-key-0123456789\nbad key with spaces 0123\n", 2, "' '"),
        ("# keys\n\ngood-admin-key-0123456789, clé-admin-0123456789\n", 3, "'é'"),
        ("tab\tinside-admin-key-0123456789\n", 1, "'\\t'"),
        # a line break other than \n is no separator: two keys run together are refused, not taken as two
        ("first-admin-key-0123456789\x85second-admin-key-012345\n", 1, "'\\x85'"),
        ("good-admin-key-0123456789\r\nsecond-admin-key-012345\x0c\r\n", 2, "'\\x0c'"),
    ],
)
def test_a_key_a_header_cannot_carry_is_refused_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, line: int, char: str
) -> None:
    secret = tmp_path / "keys"
    secret.write_text(content, encoding="utf-8")
    monkeypatch.setenv("GATEWAY_ADMIN_KEYS_FILE", str(secret))
    with pytest.raises(SwitchboardError) as caught:
        ApiKeys.from_env()
    assert f"line {line}: a key holds {char}" in caught.value.message, caught.value.message
    assert "GATEWAY_ADMIN_KEYS_FILE=" in caught.value.message


def test_a_short_key_in_a_file_is_refused_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "keys"
    secret.write_text("good-admin-key-0123456789\r\n\r\nshort-key\r\n", encoding="utf-8")
    monkeypatch.setenv("GATEWAY_ADMIN_KEYS_FILE", str(secret))
    with pytest.raises(SwitchboardError, match=r"keys, line 3: a key is shorter than 16 characters"):
        ApiKeys.from_env()


def test_a_key_variable_that_holds_no_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_USER_KEYS", ",,,")
    with pytest.raises(SwitchboardError, match="GATEWAY_USER_KEYS is set but holds no key"):
        ApiKeys.from_env()
    monkeypatch.setenv("GATEWAY_USER_KEYS", "")  # empty: not set (docker-compose's `${VAR:-}`)
    assert not ApiKeys.from_env().enabled


def test_weak_or_doubled_keys_are_refused() -> None:
    with pytest.raises(SwitchboardError, match="shorter than 16"):
        ApiKeys.of(admin=["secret"], user=[])
    with pytest.raises(SwitchboardError, match="both an admin key and a user key"):
        ApiKeys.of(admin=[ADMIN], user=[ADMIN])


def test_the_gateway_refuses_the_network_without_keys() -> None:
    with pytest.raises(SwitchboardError) as caught:
        GatewayConfig(host="0.0.0.0").check_exposure()
    assert caught.value.code is ErrorCode.BAD_REQUEST and "GATEWAY_ALLOW_OPEN=true" in caught.value.message
    GatewayConfig(host="0.0.0.0", allow_open=True).check_exposure()
    GatewayConfig(host="0.0.0.0", keys=ApiKeys.of([ADMIN], [])).check_exposure()
    for loopback in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        GatewayConfig(host=loopback).check_exposure()


def test_bearer_parsing() -> None:
    assert bearer_key(f"Bearer {USER}") == USER
    assert bearer_key(f"bearer   {USER} ") == USER
    assert bearer_key("Basic abc") is None and bearer_key("Bearer") is None and bearer_key(None) is None
