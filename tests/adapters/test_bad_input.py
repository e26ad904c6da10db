"""Bad names and payloads sent to the adapter registry: each is a clear bad_request, and the registry keeps serving."""

from __future__ import annotations

import json

import pytest
from nats.aio.client import Client

from messages import AdapterList, ErrorCode, ErrorMessage, describe, subjects
from services.runtime import Settings
from tests.support.adapters import add_adapter, chosen, make_meta, raw, registry, unique, upload

NAME_RULES = "use letters, digits"

BAD_NAMES = [
    ("../x", "is not a valid adapter name ('../x')"),
    ("", "is not a valid adapter name ('')"),
    ("a" * 65, "is not a valid adapter name ('aaaa"),
    (".hidden", "is not a valid adapter name ('.hidden')"),
    ("trailing.", "is not a valid adapter name ('trailing.')"),
    ("two..dots", "is not a valid adapter name ('two..dots')"),
    ("with space", "is not a valid adapter name ('with space')"),
    ("a/b", "is not a valid adapter name ('a/b')"),
    ("star*", "is not a valid adapter name ('star*')"),
    ("ünïcode", "is not a valid adapter name"),
]


@pytest.mark.parametrize(("name", "words"), BAD_NAMES)
@pytest.mark.parametrize("subject", [subjects.ADAPTERS_ACTIVATE, subjects.ADAPTERS_DELETE])
async def test_bad_names(nc: Client, base_settings: Settings, subject: str, name: str, words: str) -> None:
    async with registry(nc, base_settings):
        reply, flagged = await raw(nc, subject, json.dumps({"name": name}).encode())
        assert flagged
        assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.BAD_REQUEST
        assert words in describe(reply.message, reply.field) and NAME_RULES in reply.message


@pytest.mark.parametrize(("name", "words"), BAD_NAMES)
async def test_bad_names_cannot_be_registered(nc: Client, base_settings: Settings, name: str, words: str) -> None:
    async with registry(nc, base_settings):
        if name:
            await upload(nc, name)  # even with files under that name
        meta = {**_meta_dict(unique()), "name": name}
        reply, flagged = await raw(nc, subjects.ADAPTERS_REGISTER, json.dumps({"meta": meta}).encode())
        assert flagged
        assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.BAD_REQUEST
        assert words in describe(reply.message, reply.field) and NAME_RULES in reply.message


def _meta_dict(name: str) -> dict[str, object]:
    meta = make_meta(name)
    return {f: getattr(meta, f) for f in meta.__struct_fields__}


@pytest.mark.parametrize(
    ("subject", "payload", "words"),
    [
        (subjects.ADAPTERS_ACTIVATE, b"not json", "malformed JSON"),
        (subjects.ADAPTERS_ACTIVATE, b"\xff\xfe", "malformed JSON"),
        (subjects.ADAPTERS_ACTIVATE, b"", "`name` is required"),
        (subjects.ADAPTERS_ACTIVATE, b"{}", "`name` is required"),
        (subjects.ADAPTERS_ACTIVATE, b'{"name": 42}', "must be a string"),
        (subjects.ADAPTERS_ACTIVATE, b'{"name": null}', "must be a string"),
        (subjects.ADAPTERS_ACTIVATE, b'{"name": "ok", "force": true}', "`force` is not something this request takes"),
        (subjects.ADAPTERS_ACTIVATE, b'["ok"]', "invalid request"),
        (subjects.ADAPTERS_DELETE, b'"ok"', "invalid request"),
        (subjects.ADAPTERS_DELETE, b'{"name": "ok", "request_id": "../x"}', "request_id"),
        (subjects.ADAPTERS_LIST, b'{"all": true}', "`all` is not something"),
        (subjects.ADAPTERS_LIST, b"{", "malformed JSON"),
        (subjects.ADAPTERS_DEACTIVATE, b'{"name": "ok"}', "`name` is not something"),
        (subjects.ADAPTERS_REGISTER, b"{}", "`meta` is required"),
        (subjects.ADAPTERS_REGISTER, b'{"meta": {"name": "ok"}}', "is required"),
        (subjects.ADAPTERS_REGISTER, b'{"meta": "ok"}', "must be an object"),
    ],
)
async def test_bad_payloads(nc: Client, base_settings: Settings, subject: str, payload: bytes, words: str) -> None:
    async with registry(nc, base_settings):
        reply, flagged = await raw(nc, subject, payload)
        assert flagged
        assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.BAD_REQUEST
        assert words in describe(reply.message, reply.field)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"steps": -1}, "must be at least 0"),
        ({"size_bytes": -5}, "must be at least 0"),
        ({"base_model": ""}, "must not be empty"),
        ({"dataset": ""}, "must not be empty"),
        ({"created": "yesterday"}, "created"),
        ({"created": "2025-01-31T12:00:00+02:00"}, "created"),  # UTC only
        ({"lora_r": 0}, "must be at least 1"),
        ({"final_loss": "low"}, "final_loss"),
        ({"colour": "red"}, "`meta.colour` is not something"),
    ],
)
async def test_bad_metadata(nc: Client, base_settings: Settings, change: dict[str, object], words: str) -> None:
    async with registry(nc, base_settings):
        name = unique()
        await upload(nc, name)
        meta = {**_meta_dict(name), **change}
        reply, flagged = await raw(nc, subjects.ADAPTERS_REGISTER, json.dumps({"meta": meta}).encode())
        assert flagged
        assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.BAD_REQUEST
        assert words in describe(reply.message, reply.field)


async def test_keeps_serving_after_bad_input(nc: Client, base_settings: Settings) -> None:
    async with registry(nc, base_settings):
        name = unique()
        await add_adapter(nc, name)
        for subject, payload in (
            (subjects.ADAPTERS_ACTIVATE, b"garbage"),
            (subjects.ADAPTERS_ACTIVATE, b'{"name": "../../etc/passwd"}'),
            (subjects.ADAPTERS_DELETE, b'{"name": ""}'),
            (subjects.ADAPTERS_REGISTER, b'{"meta": {}}'),
            (subjects.ADAPTERS_LIST, b"\x00\x01"),
        ):
            reply, _ = await raw(nc, subject, payload)
            assert isinstance(reply, ErrorMessage) and reply.code is ErrorCode.BAD_REQUEST

        activated, _ = await raw(nc, subjects.ADAPTERS_ACTIVATE, json.dumps({"name": name}).encode())
        assert chosen(activated) == name
        listed, _ = await raw(nc, subjects.ADAPTERS_LIST, b"{}")
        assert isinstance(listed, AdapterList) and listed.active == name
        assert name in [a.name for a in listed.adapters]
