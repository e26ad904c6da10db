"""Datasets through GraphQL on a real gateway and training service: uploadDataset as a GraphQL multipart
request, datasets / dataset(preview) / deleteDataset, every bad upload refused by line and nothing stored,
admin-only writes, and a job trained on an uploaded chat file with held-out evaluation and early stopping."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import nats
from messages import subjects
from services.gateway.http.keys import ApiKeys
from services.runtime import Settings
from tests.conftest import NatsServer
from tests.support.gateway import gateway
from tests.support.training import training, unique

ADMIN = "admin-key-0123456789abcdef"
USER = "user-key-0123456789abcdef"
UPLOAD = """mutation($name: String!, $file: Upload!) {
  uploadDataset(name: $name, file: $file) { ok error errorCode errorField dataset { name format rows tokens sizeBytes } }
}"""


def chat_rows(count: int, answer: str = "Blue.") -> bytes:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"Question {i}: what colour is the sky?"},
                {"role": "assistant", "content": answer},
            ]
        }
        for i in range(count)
    ]
    return "\n".join(json.dumps(r) for r in rows).encode()


async def call(url: str, query: str, variables: dict[str, Any] | None = None, key: str = ADMIN) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        body = {"query": query, "variables": variables or {}}
        async with session.post(url, json=body, headers={"Authorization": f"Bearer {key}"}) as response:
            result: dict[str, Any] = await response.json()
            return result


async def upload(
    url: str, name: str, data: bytes, key: str | None = ADMIN, preflight: bool = True
) -> tuple[int, dict[str, Any]]:
    """A GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec), as a browser sends it."""
    form = aiohttp.FormData()
    form.add_field("operations", json.dumps({"query": UPLOAD, "variables": {"name": name, "file": None}}))
    form.add_field("map", json.dumps({"0": ["variables.file"]}))
    form.add_field("0", data, filename="data.jsonl", content_type="application/jsonl")
    headers = {"GraphQL-Require-Preflight": "1"} if preflight else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=form, headers=headers) as response:
            return response.status, await response.json()


@pytest.fixture(scope="module")
async def url(own_nats: NatsServer, own_settings: Settings, bundled_model: object) -> AsyncIterator[str]:
    nc = await nats.connect(own_nats.url)
    keys = ApiKeys.of(admin=[ADMIN], user=[USER])
    async with training(nc, own_settings), gateway(own_settings, keys=keys, dataset_max_mb=0.05) as graphql_url:
        yield graphql_url
    await nc.drain()


async def stored_names(own_nats: NatsServer) -> tuple[set[str], set[str], set[str]]:
    """What NATS holds: KV `datasets` keys, Object Store `datasets` and `dataset-uploads` objects."""
    nc = await nats.connect(own_nats.url)
    try:
        js = nc.jetstream()
        kv = await js.key_value(subjects.DATASETS_BUCKET)
        try:
            keys = set(await kv.keys())
        except Exception:
            keys = set()
        found = []
        for bucket in (subjects.DATASETS_BUCKET, subjects.DATASET_UPLOADS_BUCKET):
            store = await js.object_store(bucket)
            try:
                found.append({o.name for o in await store.list() if not o.deleted})
            except Exception:
                found.append(set())
        return keys, found[0], found[1]
    finally:
        await nc.drain()


async def test_upload_list_preview_delete(url: str, own_nats: NatsServer) -> None:
    assert (await call(url, "{ datasets { name } }", key=USER))["data"]["datasets"] == []  # none yet: an empty list
    name = unique("chats")
    status, body = await upload(url, name, chat_rows(3))
    result = body["data"]["uploadDataset"]
    assert status == 200 and result["ok"], result
    dataset = result["dataset"]
    assert dataset["format"] == "chat" and dataset["rows"] == 3 and dataset["tokens"] > 3 * 10
    assert dataset["sizeBytes"] == len(chat_rows(3))

    listed = (await call(url, "{ datasets { name rows } }", key=USER))["data"]["datasets"]
    assert {"name": name, "rows": 3} in listed
    one = await call(
        url,
        "query($n: String!) { dataset(name: $n) { preview(first: 2) { line messages { role content } } } }",
        {"n": name},
        key=USER,
    )
    preview = one["data"]["dataset"]["preview"]
    assert [r["line"] for r in preview] == [1, 2]
    assert preview[0]["messages"][1] == {"role": "assistant", "content": "Blue."}
    assert (await call(url, '{ dataset(name: "no-such-set") { name } }'))["data"]["dataset"] is None

    again = (await upload(url, name, chat_rows(2)))[1]["data"]["uploadDataset"]
    assert again["errorCode"] == "CONFLICT" and again["errorField"] == "name"

    deleted = await call(url, "mutation($n: String!) { deleteDataset(name: $n) { ok error } }", {"n": name})
    assert deleted["data"]["deleteDataset"]["ok"] is True
    keys, files, uploads = await stored_names(own_nats)
    assert f"dataset.{name}" not in keys and name not in files and not uploads


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "the file is empty"),
        (chat_rows(2) + b"\n\xff\xfe", "line 3: not UTF-8"),
        (chat_rows(2) + b"\n{oops", "line 3: not JSON"),
        (chat_rows(1) + b'\n{"prompt": "a", "completion": "b"}', "line 2: a prompt_completion row in a chat file"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "line 1: no assistant turn"),
        (
            b'{"messages": [{"role": "robot", "content": "hi"}]}',
            "line 1: `messages` message 1 has an unknown role 'robot'",
        ),
        (chat_rows(600), "over the 0.05 MB a dataset may have (DATASET_MAX_MB)"),  # read, then refused
        (chat_rows(2500), "over the 0.05 MB a dataset may have (DATASET_MAX_MB)"),  # refused before it is read
    ],
)
async def test_bad_uploads_are_refused_and_nothing_is_stored(
    url: str, own_nats: NatsServer, data: bytes, words: str
) -> None:
    name = unique("bad")
    status, body = await upload(url, name, data)
    if status == 413:  # refused at the door, before the body is read
        assert words in body["errors"][0]["message"]
    else:
        result = body["data"]["uploadDataset"]
        assert result["ok"] is False and result["errorCode"] == "BAD_REQUEST" and result["errorField"] == "file", result
        assert words in result["error"]
    keys, files, uploads = await stored_names(own_nats)
    assert f"dataset.{name}" not in keys and name not in files and not uploads


async def test_writes_need_an_admin_key_and_a_preflight_header(url: str) -> None:
    status, body = await upload(url, unique("u"), chat_rows(2), key=USER)
    assert body["data"]["uploadDataset"]["errorCode"] == "FORBIDDEN"
    status, body = await upload(url, unique("u"), chat_rows(2), key=None, preflight=True)
    assert status == 401
    status, body = await upload(url, unique("u"), chat_rows(2), preflight=False, key=None)
    assert status == 400 and "GraphQL-Require-Preflight" in body["errors"][0]["message"]
    bad_name = (await upload(url, "../etc", chat_rows(2)))[1]["data"]["uploadDataset"]
    assert bad_name["errorCode"] == "BAD_REQUEST" and bad_name["errorField"] == "name"
    assert bad_name["error"].startswith("`name` ") and "adapterName" not in bad_name["error"]
    for reserved in ("bundled", "mine.jsonl"):  # `datasetName` means the shipped set, or a file, by these
        taken = (await upload(url, reserved, chat_rows(2)))[1]["data"]["uploadDataset"]
        assert taken["errorCode"] == "BAD_REQUEST" and "reserved" in taken["error"], taken
    missing = await call(url, 'mutation { deleteDataset(name: "no-such-set") { ok error errorCode } }')
    assert missing["data"]["deleteDataset"]["errorCode"] == "NOT_FOUND"
    assert "`datasets` lists them" in missing["data"]["deleteDataset"]["error"]
    assert (await call(url, '{ dataset(name: "../x") { name } }'))["data"]["dataset"] is None
    nothing_held_out = await call(
        url,
        'mutation { startFineTune(adapterName: "x1", earlyStoppingPatience: 2, validationFraction: 0) { ok errorField } }',
    )
    assert nothing_held_out["data"]["startFineTune"] == {"ok": False, "errorField": "earlyStoppingPatience"}
    denied = await call(url, 'mutation { deleteDataset(name: "x") { ok errorCode } }', key=USER)
    assert denied["data"]["deleteDataset"]["errorCode"] == "FORBIDDEN"


async def test_a_job_on_an_uploaded_chat_file_evaluates_and_stops_early(url: str) -> None:
    """60 rows hold out 6 by default; a high learning rate overfits, so the held-out loss stops falling and
    patience 1 ends the job early, keeping the best step."""
    name = unique("sky")
    assert (await upload(url, name, chat_rows(60)))[1]["data"]["uploadDataset"]["ok"]
    started = await call(
        url,
        """mutation($d: String!, $a: String!) { startFineTune(adapterName: $a, datasetName: $d, maxSteps: 12,
             learningRate: 0.05, evalEverySteps: 1, earlyStoppingPatience: 1) { ok error jobId } }""",
        {"d": name, "a": unique("sky")},
    )
    job_id = started["data"]["startFineTune"]["jobId"]
    assert job_id, started
    query = "{ fineTuneJobs { jobId state error step dataFormat trainRows validationRows evalHistory { step loss } bestStep heldOutPrompts } }"
    deadline = time.monotonic() + 280
    while True:
        jobs = await call(url, query)
        (job,) = [j for j in jobs["data"]["fineTuneJobs"] if j["jobId"] == job_id]
        if job["state"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert job["state"] == "succeeded", job
    assert job["dataFormat"] == "chat" and job["trainRows"] == 54 and job["validationRows"] == 6
    history = job["evalHistory"]
    assert history[0]["step"] == 0 and [p["step"] for p in history] == sorted(p["step"] for p in history)
    best = min(history, key=lambda p: p["loss"])
    assert job["bestStep"] == best["step"]
    assert job["step"] < 12, "patience 1 stops the job once the held-out loss rises"
    assert history[-1]["step"] == job["step"] and history[-1]["loss"] >= best["loss"]
    assert job["heldOutPrompts"] and all(p.startswith("Question") for p in job["heldOutPrompts"])
