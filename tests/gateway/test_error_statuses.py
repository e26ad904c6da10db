"""Both APIs answer one refusal alike: for every `ErrorCode` a worker refuses with, the OpenAI API's HTTP status
and the GraphQL error's `extensions.code` stand for the same status, that of `messages.HTTP_STATUS`; and a
service's NATS micro error header carries that status too.

A refusing worker (the wire protocol without a model) answers `svc.inference.generate` with the code named in
the prompt, so each code reaches both front ends through the gateway's real request path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from nats.aio.msg import Msg

import nats
from messages import HTTP_STATUS, ErrorCode, ErrorMessage, GenerateRequest, ModelInfo, decode, encode, subjects
from services.runtime import MICRO_STATUS, Settings
from tests.conftest import NatsServer
from tests.support.adapters import registry
from tests.support.gateway import gateway
from tests.support.graphql_client import post

PREFIX = "refuse:"


@pytest.fixture(scope="module")
async def graphql_url(own_settings: Settings, own_nats: NatsServer) -> AsyncIterator[str]:
    nc = await nats.connect(own_nats.url, name="refusing-inference-worker")

    async def generate(msg: Msg) -> None:
        request = decode(msg.data, GenerateRequest)
        words = request.prompt or (request.messages[-1].content if request.messages else "")
        code = ErrorCode(words.removeprefix(PREFIX))
        await msg.respond(encode(ErrorMessage(code, f"refused on purpose with {code.value}")))

    async def info(msg: Msg) -> None:
        await msg.respond(encode(ModelInfo("refusing/model", "cpu", "float32", False, 2048, "ready", "refusing")))

    await nc.subscribe(subjects.INFERENCE_GENERATE, queue=subjects.INFERENCE_QUEUE, cb=generate)
    await nc.subscribe(subjects.INFERENCE_INFO, queue=subjects.INFERENCE_QUEUE, cb=info)
    await nc.flush()
    try:
        async with gateway(own_settings, busy_wait_s=0.0) as url:
            yield url
    finally:
        await nc.close()


@pytest.mark.parametrize("code", list(ErrorCode), ids=[code.value for code in ErrorCode])
async def test_both_apis_answer_a_refusal_with_the_status_of_its_code(graphql_url: str, code: ErrorCode) -> None:
    prompt = f"{PREFIX}{code.value}"
    openai_url = graphql_url.removesuffix("/graphql") + "/v1/chat/completions"
    async with aiohttp.ClientSession() as session:
        body = {"model": "refusing/model", "messages": [{"role": "user", "content": prompt}], "max_tokens": 2}
        async with session.post(openai_url, json=body) as response:
            openai_status = response.status
            openai_error = (await response.json())["error"]
    result = await post(graphql_url, f'mutation {{ infer(prompt: "{prompt}", maxNewTokens: 2) {{ text }} }}')
    graphql_code = result["errors"][0]["extensions"]["code"]

    assert openai_status == HTTP_STATUS[code], openai_error
    assert graphql_code == code.value.upper()
    assert HTTP_STATUS[ErrorCode(graphql_code.lower())] == openai_status
    assert "refused on purpose" in openai_error["message"]
    assert MICRO_STATUS[code] == str(openai_status)


async def test_a_services_micro_error_header_is_the_status_of_its_code(
    own_settings: Settings, own_nats: NatsServer
) -> None:
    """A real service's refusal (the adapter registry: activate an adapter it does not have) carries the
    table's status in `Nats-Service-Error-Code`."""
    nc = await nats.connect(own_nats.url)
    try:
        async with registry(nc, own_settings):
            msg = await nc.request(subjects.ADAPTERS_ACTIVATE, b'{"name": "no-such-adapter"}', timeout=5)
    finally:
        await nc.close()
    error = decode(msg.data, ErrorMessage)
    assert error.code is ErrorCode.NOT_FOUND
    assert msg.headers is not None and msg.headers["Nats-Service-Error-Code"] == str(HTTP_STATUS[error.code]) == "404"
