"""`n` and logprobs through `/v1`: n choices come back one per index, whole and streamed (each choice's role
first and finish reason last), with chat's logprobs (`content`: token, logprob, bytes, top_logprobs) or
completions' legacy ones (`tokens`, `token_logprobs`, `top_logprobs`, `text_offset`); the worker is asked for
n, logprobs and top_logprobs; usage is the last chunk's. Out-of-range asks are 400s naming `param`. Against a
scripted worker (tests/openai/scripted.py)."""

from __future__ import annotations

import math

import openai
import pytest

from messages import ErrorCode, ErrorMessage, FinishReason, TokenLogprob, TopLogprob
from services.gateway.openai.replies import completion_logprobs
from tests.openai.scripted import MODEL, SCRIPTS, ScriptedV1, lp, turn
from tests.support.scripted_worker import Script, piece


@pytest.fixture
def client(v1: ScriptedV1) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=v1.url, api_key="unused", max_retries=0)


def three_choices() -> Script:
    """Three choices interleaved, as a worker decoding them in one batch sends them; each ends on its own
    chunk (choice 1 by length), the request's last chunk is choice 2's."""
    return Script(
        pieces=[
            piece("Par", 0, logprobs=[lp("Par", -0.1, ("Par", -0.1), ("Lon", -2.5))]),
            piece("Lon", 1, logprobs=[lp("Lon", -2.5, ("Par", -0.1), ("Lon", -2.5))]),
            piece("Ber", 2, logprobs=[lp("Ber", -3.0, ("Par", -0.1), ("Ber", -3.0))]),
            piece("is", 0, logprobs=[lp("is", -0.01, ("is", -0.01), ("ís", -5.0))], finish_reason=FinishReason.STOP),
            piece("don", 1, logprobs=[lp("don", -0.2, ("don", -0.2), ("g", -1.7))], finish_reason=FinishReason.LENGTH),
            piece("lin", 2, logprobs=[lp("lin", -0.3, ("lin", -0.3), ("n", -1.4))], finish_reason=FinishReason.STOP),
        ]
    )


async def test_n_choices_whole_with_logprobs(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["capital? (whole)"] = three_choices()
    done = await client.chat.completions.create(
        model=MODEL, messages=turn("capital? (whole)"), n=3, logprobs=True, top_logprobs=2, temperature=0.8, seed=7
    )
    assert [(c.index, c.message.content, c.finish_reason) for c in done.choices] == [
        (0, "Paris", "stop"),
        (1, "London", "length"),
        (2, "Berlin", "stop"),
    ]
    first = done.choices[0].logprobs
    assert first is not None and first.content is not None
    assert [(t.token, t.logprob, t.bytes) for t in first.content] == [
        ("Par", -0.1, [80, 97, 114]),
        ("is", -0.01, [105, 115]),
    ]
    assert [(t.token, t.logprob) for t in first.content[1].top_logprobs] == [("is", -0.01), ("ís", -5.0)]
    assert first.content[1].top_logprobs[1].bytes == list("ís".encode())
    assert done.usage is not None and done.usage.prompt_tokens == 3 and done.usage.completion_tokens == 6
    params = v1.asked("capital? (whole)").params
    assert (params.n, params.logprobs, params.top_logprobs, params.seed) == (3, True, 2, 7)


async def test_n_choices_streamed(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["capital? (streamed)"] = three_choices()
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=turn("capital? (streamed)"),
        n=3,
        logprobs=True,
        top_logprobs=2,
        stream=True,
        stream_options={"include_usage": True},
    )
    texts: dict[int, str] = {}
    roles: dict[int, list[str | None]] = {}
    finishes: dict[int, list[str | None]] = {}
    tokens: dict[int, list[str]] = {}
    usage = None
    async for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            roles.setdefault(choice.index, []).append(choice.delta.role)
            finishes.setdefault(choice.index, []).append(choice.finish_reason)
            assert choice.logprobs is not None and choice.logprobs.content is not None
            tokens.setdefault(choice.index, []).extend(t.token for t in choice.logprobs.content)
            assert all(math.isfinite(t.logprob) and len(t.top_logprobs) == 2 for t in choice.logprobs.content)
    assert texts == {0: "Paris", 1: "London", 2: "Berlin"}
    assert all(r[0] == "assistant" and not any(r[1:]) for r in roles.values())
    assert {i: f[-1] for i, f in finishes.items()} == {0: "stop", 1: "length", 2: "stop"}
    assert all(not any(f[:-1]) for f in finishes.values())
    assert tokens == {0: ["Par", "is"], 1: ["Lon", "don"], 2: ["Ber", "lin"]}
    assert usage is not None and usage.completion_tokens == 6


async def test_no_logprobs_unless_asked(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    done = await client.chat.completions.create(model=MODEL, messages=turn("no logprobs"))
    assert done.choices[0].logprobs is None
    params = v1.asked("no logprobs").params
    assert (params.n, params.logprobs, params.top_logprobs) == (1, False, 0)


async def test_completions_legacy_logprobs_and_n(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    SCRIPTS["complete me"] = Script(
        pieces=[
            piece("Hel", 0, logprobs=[lp("Hel", -0.5, ("Hel", -0.5), ("Hi", -1.0))]),
            piece("lo", 0, logprobs=[lp("lo", -0.25, ("lo", -0.25), ("p", -2.0))], finish_reason=FinishReason.STOP),
            piece("Hi", 1, logprobs=[lp("Hi", -1.0, ("Hel", -0.5), ("Hi", -1.0))], finish_reason=FinishReason.STOP),
        ]
    )
    done = await client.completions.create(model=MODEL, prompt="complete me", logprobs=2, n=2)
    assert [(c.index, c.text) for c in done.choices] == [(0, "Hello"), (1, "Hi")]
    legacy = done.choices[0].logprobs
    assert legacy is not None
    assert legacy.tokens == ["Hel", "lo"] and legacy.token_logprobs == [-0.5, -0.25]
    assert legacy.top_logprobs == [{"Hel": -0.5, "Hi": -1.0}, {"lo": -0.25, "p": -2.0}]
    assert legacy.text_offset == [0, 3]
    params = v1.asked("complete me").params
    assert (params.n, params.logprobs, params.top_logprobs) == (2, True, 2)
    streamed = await client.completions.create(model=MODEL, prompt="complete me", logprobs=2, n=2, stream=True)
    offsets: dict[int, list[int]] = {}
    async for chunk in streamed:
        for choice in chunk.choices:
            assert choice.logprobs is not None and choice.logprobs.text_offset is not None
            offsets.setdefault(choice.index, []).extend(choice.logprobs.text_offset)
    assert offsets == {0: [0, 3], 1: [0]}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 5}, "n"),  # over GATEWAY_MAX_CHOICES (4 here)
        ({"n": 9}, "n"),  # over the wire's 8
        ({"n": 0}, "n"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),  # without logprobs
        ({"logprobs": 3}, "logprobs"),
        ({"stream": True, "stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
    ],
)
async def test_out_of_range_is_400_naming_the_param(
    client: openai.AsyncOpenAI, extra: dict[str, object], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=turn("refused"), extra_body=extra)
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == param and body["message"], body


@pytest.mark.parametrize("logprobs", [6, -1, True])
async def test_completions_logprobs_are_0_to_5(client: openai.AsyncOpenAI, logprobs: object) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.completions.create(model=MODEL, prompt="x", extra_body={"logprobs": logprobs})
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "logprobs"


async def test_a_failed_request_never_reads_a_choice_as_finished(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    dead = ErrorMessage(ErrorCode.BAD_REQUEST, "can never be completed", "constraint")
    SCRIPTS["dead end"] = Script(
        pieces=[
            piece("ab", 0),
            piece("ab", 1),
            piece("", 0, finish_reason=FinishReason.ERROR),  # the worker ends each answer the failure cut short
            piece("", 1, finish_reason=FinishReason.ERROR, error=dead),
        ]
    )
    stream = await client.chat.completions.create(model=MODEL, messages=turn("dead end"), n=2, stream=True)
    finishes = []
    with pytest.raises(openai.APIError, match="can never be completed"):
        async for chunk in stream:
            finishes.extend(choice.finish_reason for choice in chunk.choices)
    assert finishes and not any(finishes)


async def test_byte_tokens_carry_their_own_bytes(client: openai.AsyncOpenAI, v1: ScriptedV1) -> None:
    woman = "\U0001f469"  # three byte tokens in the bundled model: f0 9f | 91 | a9
    split = [TokenLogprob("\ufffd", -0.1, bytes=[0xF0, 0x9F]), TokenLogprob("\ufffd", -0.2, bytes=[0x91])]
    split.append(TokenLogprob("\ufffd", -0.3, bytes=[0xA9]))
    SCRIPTS["emoji"] = Script(pieces=[piece("a", logprobs=[lp("a", -0.5)]), piece(woman, logprobs=split)])
    chat = await client.chat.completions.create(model=MODEL, messages=turn("emoji"), logprobs=True)
    content = chat.choices[0].logprobs.content  # type: ignore[union-attr]
    assert content is not None and chat.choices[0].message.content == "a" + woman
    assert b"".join(bytes(t.bytes or []) for t in content).decode() == "a" + woman
    legacy = await client.completions.create(model=MODEL, prompt="emoji", logprobs=0)
    assert legacy.choices[0].logprobs is not None
    assert legacy.choices[0].logprobs.text_offset == [0, 1, 1, 1]  # each byte token starts where the emoji does


def test_legacy_top_logprobs_keep_the_most_likely_of_tokens_that_read_alike() -> None:
    alike = [TopLogprob("\ufffd", -0.01, [0xF0, 0x9F]), TopLogprob("\ufffd", -5.2, [0xE6, 0x97])]
    legacy = completion_logprobs([TokenLogprob("\ufffd", -0.01, alike, [0xF0, 0x9F])], 0)
    assert legacy is not None and legacy["top_logprobs"] == [{"\ufffd": -0.01}]
