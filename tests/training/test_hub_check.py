"""A Hugging Face dataset id is checked before its job is queued: a missing, gated or unreachable one is
refused at once, about the `dataset` field, instead of failing at step 0 after the jobs ahead of it.

The hub is the one part this machine cannot reach, so a small aiohttp server answers the hub's real
`/api/datasets/<id>` route the way the hub does (status and `X-Error-Code`), and huggingface_hub's own
`HfApi` talks to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from nats.aio.client import Client

from messages import ErrorCode, ErrorMessage, SwitchboardError, encode
from services.training import TrainingActor
from services.training.hub_check import check_hub_dataset
from tests.support.training import list_jobs, raw_submit, spec

PUBLIC = "switchboard-tests/public"
GATED = "switchboard-tests/gated"


async def _dataset_info(request: web.Request) -> web.Response:
    repo = f"{request.match_info['owner']}/{request.match_info['name']}"
    if repo == PUBLIC:
        return web.json_response({"_id": "1", "id": PUBLIC, "private": False, "sha": "0" * 40})
    if repo == GATED:
        return web.json_response({"error": "gated"}, status=403, headers={"X-Error-Code": "GatedRepo"})
    if repo == "switchboard-tests/broken":
        return web.json_response({"error": "oops"}, status=500)
    return web.json_response({"error": "Repository not found"}, status=404, headers={"X-Error-Code": "RepoNotFound"})


@pytest.fixture
async def hub() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/api/datasets/{owner}/{name}", _dataset_info)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def check(repo_id: str, endpoint: str) -> SwitchboardError | None:
    try:
        await asyncio.to_thread(check_hub_dataset, repo_id, None, endpoint, 5.0)
    except SwitchboardError as exc:
        return exc
    return None


async def test_a_dataset_the_hub_has_passes(hub: str) -> None:
    assert await check(PUBLIC, hub) is None


@pytest.mark.parametrize(
    ("repo_id", "code"),
    [
        ("switchboard-tests/no-such-dataset", ErrorCode.NOT_FOUND),
        (GATED, ErrorCode.FORBIDDEN),
        ("switchboard-tests/broken", ErrorCode.UNAVAILABLE),
    ],
)
async def test_the_hubs_answers_become_typed_errors(hub: str, repo_id: str, code: ErrorCode) -> None:
    exc = await check(repo_id, hub)
    assert exc is not None and exc.code is code and exc.field == "dataset"
    assert repo_id in exc.message


async def test_an_unreachable_hub_is_offline() -> None:
    exc = await check(PUBLIC, "http://127.0.0.1:9")
    assert exc is not None and exc.code is ErrorCode.OFFLINE and exc.field == "dataset"
    assert "cannot be reached" in exc.message and "Error" not in exc.message and "bundled" in exc.message


async def test_the_training_service_refuses_before_queueing(nc: Client, training_service: TrainingActor) -> None:
    job = spec(dataset="switchboard-tests/no-such-dataset")
    reply, flagged = await raw_submit(nc, encode(job))
    assert isinstance(reply, ErrorMessage) and flagged
    assert (reply.code, reply.field) == (ErrorCode.OFFLINE, "dataset")  # the tests' hub is unreachable
    assert all(listed.spec.job_id != job.job_id for listed in await list_jobs(nc))
