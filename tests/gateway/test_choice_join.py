"""`token_relay.join` with choices (n > 1), logprobs and tool calls: chunks that waited for a reader are joined
only within a run of one choice, never past a choice's finish reason; a joined chunk's logprobs and tool calls
are its chunks' in order, and its `seq` says every chunk up to it went out."""

from __future__ import annotations

import random

from messages import FinishReason, TokenChunk
from messages.inference import TokenLogprob, ToolCall
from services.gateway.clients.token_relay import join


def chunk(seq: int, token: str, index: int = 0, **fields: object) -> TokenChunk:
    return TokenChunk(request_id="r", seq=seq, token=token, index=index, **fields)  # type: ignore[arg-type]


def test_one_choice_joins_as_before() -> None:
    chunks = [chunk(0, "a"), chunk(1, "b"), chunk(2, "c", done=True, finish_reason=FinishReason.STOP)]
    (joined,) = join(chunks)
    assert joined.token == "abc"
    assert joined.seq == 2 and joined.done and joined.logprobs is None and joined.tool_calls is None


def test_choices_are_not_merged_and_a_finish_ends_a_run() -> None:
    chunks = [
        chunk(0, "a", 0),
        chunk(1, "b", 0),
        chunk(2, "x", 1),
        chunk(3, "c", 0, finish_reason=FinishReason.STOP),
        chunk(4, "y", 1),
        chunk(5, "z", 1, finish_reason=FinishReason.LENGTH, done=True),
    ]
    joined = join(chunks)
    assert [(c.index, c.token, c.seq, c.finish_reason) for c in joined] == [
        (0, "ab", 1, None),
        (1, "x", 2, None),
        (0, "c", 3, FinishReason.STOP),
        (1, "yz", 5, FinishReason.LENGTH),
    ]


def test_logprobs_and_tool_calls_are_concatenated() -> None:
    a, b = TokenLogprob("a", -0.5), TokenLogprob("b", -1.5)
    call = ToolCall(id="call_1", name="f", arguments="{}")
    chunks = [
        chunk(0, "a", logprobs=[a]),
        chunk(1, "b", logprobs=[b]),
        chunk(2, "", tool_calls=[call]),
        chunk(3, "", tool_calls=[call], finish_reason=FinishReason.TOOL_CALLS),
    ]
    (joined,) = join(chunks)
    assert joined.token == "ab" and joined.logprobs == [a, b] and joined.tool_calls == [call, call]
    assert joined.finish_reason is FinishReason.TOOL_CALLS and joined.seq == 3


def test_random_interleavings_keep_every_choices_text_in_order() -> None:
    rng = random.Random(24)
    for _ in range(200):
        n = rng.randint(1, 4)
        left = {i: rng.randint(1, 5) for i in range(n)}
        chunks: list[TokenChunk] = []
        while left:
            index = rng.choice(sorted(left))
            left[index] -= 1
            finish = FinishReason.STOP if left[index] == 0 else None
            if finish:
                del left[index]
            lps = [TokenLogprob(f"{index}:{len(chunks)}", -1.0)]
            chunks.append(chunk(len(chunks), f"<{index}.{len(chunks)}>", index, finish_reason=finish, logprobs=lps))
        joined = join(chunks)
        for i in range(n):
            assert "".join(c.token for c in joined if c.index == i) == "".join(c.token for c in chunks if c.index == i)
            mine = [lp for c in joined if c.index == i for lp in c.logprobs or []]
            assert mine == [lp for c in chunks if c.index == i for lp in c.logprobs or []]
            assert [c.finish_reason for c in joined if c.index == i][-1] is FinishReason.STOP
            assert sum(c.finish_reason is not None for c in joined if c.index == i) == 1
        seqs = [c.seq for c in joined]
        assert seqs == sorted(set(seqs)) and seqs[-1] == len(chunks) - 1
