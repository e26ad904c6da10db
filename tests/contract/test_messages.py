"""Every message type round-trips through its JSON encoding; decoding is strict."""

from __future__ import annotations

import json

import msgspec
import pytest

from messages import (
    Accept,
    Cancel,
    ChatMessage,
    ErrorCode,
    ErrorMessage,
    FinishReason,
    GenerateReply,
    GenerateRequest,
    GenerationParams,
    ModelInfo,
    SearchResult,
    SwitchboardError,
    TokenChunk,
    Usage,
    decode,
    encode,
    subjects,
)

SAMPLES: list[object] = [
    GenerateRequest(request_id="r1", prompt="hi"),
    GenerateRequest(
        request_id="r2",
        messages=[ChatMessage(role="system", content="be brief"), ChatMessage(role="user", content="hi")],
        params=GenerationParams(max_new_tokens=9, temperature=0.7, top_p=0.9, stop=["\n\n"], seed=7),
        adapter="my-adapter.v2",
        sources=[SearchResult(title="t", url="https://example.org", snippet="s")],
    ),
    Accept(request_id="r1", worker_id="w", prompt_tokens=3, max_new_tokens=9),
    ErrorMessage(code=ErrorCode.BUSY, message="busy"),
    TokenChunk(request_id="r1", seq=0, token="Hel"),
    TokenChunk(
        request_id="r1",
        seq=5,
        done=True,
        finish_reason=FinishReason.STOP,
        usage=Usage(prompt_tokens=3, completion_tokens=5),
    ),
    TokenChunk(
        request_id="r1", seq=1, done=True, finish_reason=FinishReason.ERROR, error=ErrorMessage(ErrorCode.INTERNAL, "x")
    ),
    Cancel(request_id="r1"),
    ModelInfo(
        model_id="m",
        device="cpu",
        dtype="bfloat16",
        load_in_4bit=False,
        context_length=8192,
        state="ready",
        worker_id="w",
    ),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip(message: object) -> None:
    data = encode(message)
    json.loads(data)  # plain JSON, readable with `nats sub`
    assert decode(data, type(message)) == message


def test_reply_union_is_tagged() -> None:
    accept = Accept(request_id="r", worker_id="w", prompt_tokens=1, max_new_tokens=2)
    error = ErrorMessage(code=ErrorCode.BAD_REQUEST, message="no")
    assert json.loads(encode(accept))["type"] == "accept"
    assert json.loads(encode(error))["type"] == "error"
    assert decode(encode(accept), GenerateReply) == accept  # type: ignore[arg-type]
    assert decode(encode(error), GenerateReply) == error  # type: ignore[arg-type]


def test_chunks_omit_empty_fields() -> None:
    assert json.loads(encode(TokenChunk(request_id="r", seq=0, token="a"))) == {
        "request_id": "r",
        "seq": 0,
        "token": "a",
    }


@pytest.mark.parametrize(
    "payload",
    [
        b'{"request_id": "r", "prompt": "x", "extra": 1}',
        b'{"request_id": "r", "prompt": "x", "params": {"max_new_tokens": -1}}',
        b'{"request_id": "r", "prompt": "x", "params": {"stop": ["a","b","c","d","e","f","g","h","i"]}}',
        b'{"request_id": "has space", "prompt": "x"}',
        b'{"request_id": "r", "prompt": "x", "adapter": ".hidden"}',
        b'{"request_id": "r", "prompt": "x", "adapter": "' + b"a" * 65 + b'"}',
        b"{",
    ],
)
def test_strict_decoding(payload: bytes) -> None:
    with pytest.raises(SwitchboardError) as raised:
        decode(payload, GenerateRequest)
    assert raised.value.code is ErrorCode.BAD_REQUEST


def test_struct_defaults_are_independent() -> None:
    a, b = GenerationParams(), GenerationParams()
    assert a.stop is not b.stop
    assert msgspec.structs.asdict(a)["max_new_tokens"] == 256


def test_subject_helpers() -> None:
    assert subjects.tokens_subject("abc") == "infer.tokens.abc"
    assert subjects.cancel_subject("abc") == "infer.cancel.abc"
    assert subjects.request_id_of("infer.cancel.abc") == "abc"
