"""The OpenAI-compatible API, called with the real `openai` package: models (adapters as model ids), chat and
plain completions, whole and streamed, per-request adapters, refusals in OpenAI's error shape, API keys, and
a client that leaves mid-stream cancelling its generation.

A module's own nats-server with the real registry (one adapter), a bundled-model inference worker and two
gateways: one open, one with keys.
"""

from __future__ import annotations

import aiohttp
import openai
import pytest
from nats.aio.client import Client

from services.gateway.http.keys import ApiKeys
from services.runtime import BUNDLED_MODEL_ID, Settings
from tests.conftest import worker_settings
from tests.support.gateway import gateway
from tests.support.nats_client import final_chunk

KEY = "openai-test-key-0123456789"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture
def client(base_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)


async def test_models_are_the_base_model_and_every_adapter(client: openai.AsyncOpenAI) -> None:
    ids = [model.id async for model in client.models.list()]
    assert ids == [BUNDLED_MODEL_ID, "pirate"]


async def test_chat_whole_and_streamed_give_the_same_answer(client: openai.AsyncOpenAI) -> None:
    whole = await client.chat.completions.create(
        model=BUNDLED_MODEL_ID,
        messages=QUESTION,
        max_tokens=12,
        temperature=0,  # type: ignore[arg-type]
    )
    text = whole.choices[0].message.content or ""
    assert "Paris" in text and whole.choices[0].finish_reason in ("stop", "length")
    assert whole.usage is not None and whole.usage.completion_tokens <= 12 and whole.usage.prompt_tokens > 0
    pieces, usage, finishes, roles = [], None, [], []
    stream = await client.chat.completions.create(
        model=BUNDLED_MODEL_ID,
        messages=QUESTION,  # type: ignore[arg-type]
        max_tokens=12,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finishes.append(choice.finish_reason)
            roles.append(choice.delta.role)
    assert "".join(pieces) == text
    assert roles[0] == "assistant" and not any(roles[1:])  # the role in the first delta only, as OpenAI sends it
    assert finishes[-1] == whole.choices[0].finish_reason and all(f is None for f in finishes[:-1])
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens


async def test_an_adapter_is_a_model(client: openai.AsyncOpenAI) -> None:
    base = await client.chat.completions.create(model=BUNDLED_MODEL_ID, messages=QUESTION, max_tokens=12)  # type: ignore[arg-type]
    tuned = await client.chat.completions.create(model="pirate", messages=QUESTION, max_tokens=12)  # type: ignore[arg-type]
    assert tuned.model == "pirate"
    assert tuned.choices[0].message.content != base.choices[0].message.content  # the random LoRA changes it


async def test_plain_completions(client: openai.AsyncOpenAI) -> None:
    done = await client.completions.create(model=BUNDLED_MODEL_ID, prompt="Say hello.", max_tokens=6, seed=1)
    assert done.object == "text_completion" and done.choices[0].text
    streamed = await client.completions.create(model=BUNDLED_MODEL_ID, prompt="Say hello.", max_tokens=6, stream=True)
    assert "".join([c.choices[0].text async for c in streamed if c.choices]) == done.choices[0].text


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 9}, "n"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"response_format": {"type": "xml"}}, "response_format"),
        ({"max_tokens": 100_000}, "max_tokens"),
        ({"temperature": 9}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"stop": ["a"] * 9}, "stop"),
        ({"seed": -1}, "seed"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ],
)
async def test_what_switchboard_does_not_do_is_a_clear_400(
    client: openai.AsyncOpenAI, extra: dict[str, object], param: str
) -> None:
    arguments: dict[str, object] = {"model": BUNDLED_MODEL_ID, "messages": QUESTION, "max_tokens": 4, **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(**arguments)  # type: ignore[call-overload]
    assert caught.value.status_code == 400
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == param and body["message"], body


async def test_an_unknown_model_is_404(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="no-such-model", messages=QUESTION, max_tokens=4)  # type: ignore[arg-type]
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "model_not_found" and body["param"] == "model"


async def test_a_prompt_too_long_for_the_model_is_context_length_exceeded(client: openai.AsyncOpenAI) -> None:
    long = [{"role": "user", "content": "word " * 12_000}]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=BUNDLED_MODEL_ID, messages=long, max_tokens=4)  # type: ignore[arg-type]
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "context_length_exceeded"


async def test_a_client_that_leaves_mid_stream_cancels(base_url: str, own_nc: Client) -> None:
    body = {"model": BUNDLED_MODEL_ID, "messages": [{"role": "user", "content": "Write a long story."}]}
    body |= {"max_tokens": 400, "stream": True}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base_url}/chat/completions", json=body) as response:
            assert response.status == 200
            first = await response.content.readline()
            assert first.startswith(b"data: ")
            request_id = first.split(b'"id":"chatcmpl-', 1)[1].split(b'"', 1)[0].decode()
    final = await final_chunk(own_nc, request_id)
    assert final.finish_reason is not None and final.finish_reason.value == "cancelled"
    assert final.usage is not None and final.usage.completion_tokens < 100


async def test_keys_apply_to_v1(own_settings: Settings, base_url: str) -> None:
    async with gateway(worker_settings(own_settings), keys=ApiKeys.of(admin=[KEY], user=[])) as url:
        v1 = url.replace("/graphql", "/v1")
        wrong = openai.AsyncOpenAI(base_url=v1, api_key="wrong-key-0000000000000", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            await wrong.models.list()
        assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "invalid_api_key"
        right = openai.AsyncOpenAI(base_url=v1, api_key=KEY, max_retries=0)
        served = [m.id async for m in right.models.list()]
        assert served[0] == BUNDLED_MODEL_ID


async def test_one_model_by_id(client: openai.AsyncOpenAI, base_url: str) -> None:
    assert (await client.models.retrieve("pirate")).id == "pirate"
    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/models/{BUNDLED_MODEL_ID}") as response:
        assert response.status == 200 and (await response.json())["id"] == BUNDLED_MODEL_ID  # org/name, unescaped
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("no-such-model")


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"messages": [{"role": "user", "content": "x" * 200_001}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "  "}]}, "messages[0].content"),
        ({"max_tokens": 5, "max_completion_tokens": 7}, "max_tokens"),
    ],
)
async def test_more_refusals_name_the_field(client: openai.AsyncOpenAI, extra: dict[str, object], param: str) -> None:
    arguments: dict[str, object] = {"model": BUNDLED_MODEL_ID, "messages": QUESTION, **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(**arguments)  # type: ignore[call-overload]
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == param


async def test_transport_errors_under_v1_have_openais_shape(base_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        deep = b"[" * 100_000 + b"]" * 100_000  # deeper than Python recurses
        async with session.post(f"{base_url}/chat/completions", data=deep) as response:
            assert response.status == 400 and (await response.json())["error"]["code"] == "bad_json"
        async with session.post(f"{base_url}/chat/completions", data=b"{" + b" " * 2_000_000 + b"}") as response:
            assert response.status == 413 and (await response.json())["error"]["code"] == "request_too_large"
        async with session.get(f"{base_url}/chat/completions") as response:
            assert response.status == 405 and "error" in await response.json()
        async with session.get(f"{base_url}/nothing-here") as response:
            assert response.status == 404 and "error" in await response.json()


async def test_an_explicit_null_means_not_given(client: openai.AsyncOpenAI) -> None:
    """Issue 22, item 4: `max_tokens: 3` beside `"max_completion_tokens": null` stops at 3 tokens (it ran to the
    default 256), and a null for a field Switchboard does not take (`tools`) asks for nothing."""
    nulls = {"max_completion_tokens": None, "tools": None, "temperature": None, "stop": None, "seed": None}
    chat = await client.chat.completions.create(
        model=BUNDLED_MODEL_ID,
        messages=[{"role": "user", "content": "Write a long story about a dragon."}],
        max_tokens=3,
        extra_body=nulls,
    )
    assert chat.usage is not None and chat.usage.completion_tokens == 3 and chat.choices[0].finish_reason == "length"
    text = await client.completions.create(
        model=BUNDLED_MODEL_ID, prompt="Write a long story about a dragon.", max_tokens=3, extra_body=nulls
    )
    assert text.usage is not None and text.usage.completion_tokens == 3


async def test_every_answer_to_an_allowed_origin_carries_cors_headers(base_url: str) -> None:
    """Issue 22, item 8: a streamed answer (prepared inside its handler) carried no Access-Control-Allow-Origin,
    so a browser could not read it; now streamed, whole and error answers all do, for an allowed origin only."""
    body = {"model": BUNDLED_MODEL_ID, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    async with aiohttp.ClientSession() as session:
        for extra, origin, expect in [
            ({"stream": True}, "http://localhost:3000", "http://localhost:3000"),
            ({}, "http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ({"max_tokens": 0}, "http://localhost:3000", "http://localhost:3000"),  # a 400
            ({"stream": True}, "http://evil.example", None),
        ]:
            async with session.post(
                f"{base_url}/chat/completions", json={**body, **extra}, headers={"Origin": origin}
            ) as response:
                await response.read()
                assert response.headers.get("Access-Control-Allow-Origin") == expect, (extra, origin, response.status)
