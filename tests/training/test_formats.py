"""The four dataset formats, read by `services.training.formats` and rendered by `render`: each format's
rows become the same turns, labels sit exactly on the assistant turns (checked token by token on a
rendered example), and every bad file is refused with its line and reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from transformers import AutoTokenizer

from messages import ChatMessage
from services.inference.chat_tokens import chat_token_ids
from services.runtime import resolve_model
from services.training.examples import split
from services.training.formats import DatasetFormat, FormatError, parse_file
from services.training.render import IGNORE, Overlong, fit, render


def jsonl(*rows: Any) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


CHAT = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And of Germany? <|im_end|>"},
        {"role": "assistant", "content": "Berlin."},
    ]
}
SHAREGPT = {
    "system": "Be brief.",
    "conversations": [
        {"from": "human", "value": "Capital of France?"},
        {"from": "gpt", "value": "Paris."},
        {"from": "human", "value": "And of Germany? <|im_end|>"},
        {"from": "gpt", "value": "Berlin."},
    ],
}


@pytest.fixture(scope="module")
def tokenizer(bundled_model: object, base_settings: Any) -> Any:
    return AutoTokenizer.from_pretrained(resolve_model(base_settings).location)


def test_each_format_is_detected_and_read_as_turns() -> None:
    chat = parse_file(jsonl(CHAT))
    sharegpt = parse_file(jsonl(SHAREGPT))
    assert chat.format is DatasetFormat.CHAT and sharegpt.format is DatasetFormat.SHAREGPT
    assert chat.rows[0].turns == sharegpt.rows[0].turns  # the same conversation, two spellings
    assert [t.trained for t in chat.rows[0].turns] == [False, False, True, False, True]

    pc = parse_file(jsonl({"prompt": "2+2?", "completion": "4"}))
    assert pc.format is DatasetFormat.PROMPT_COMPLETION
    assert [(t.role, t.content, t.trained) for t in pc.rows[0].turns] == [
        ("user", "2+2?", False),
        ("assistant", "4", True),
    ]

    alpaca = parse_file(jsonl({"instruction": "Add.", "input": "2+2", "output": "4"}))
    assert alpaca.format is DatasetFormat.ALPACA
    assert alpaca.rows[0].turns[0].content == "Add.\n\n2+2" and alpaca.rows[0].turns[1].trained

    array = parse_file(json.dumps([CHAT, CHAT]).encode())  # a JSON array of rows
    assert array.unit == "row" and [r.line for r in array.rows] == [1, 2]

    weighted = {
        "messages": [
            *CHAT["messages"][:3],
            {"role": "user", "content": "?"},
            {"role": "assistant", "content": "x", "weight": 0},
        ]
    }
    assert [t.trained for t in parse_file(jsonl(weighted)).rows[0].turns] == [False, False, True, False, False]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "the file is empty"),
        (b"\n  \n", "the file is empty"),
        (jsonl(CHAT) + b"\n\xff\xfe{}", "line 2: not UTF-8 text (byte 0xff at column 1)"),
        (jsonl(CHAT) + b"\n{not json", "line 2: not JSON"),
        (jsonl(CHAT, CHAT) + b"\n" + jsonl(SHAREGPT), "line 3: a sharegpt row in a chat file"),
        (jsonl(CHAT) + b"\n" + jsonl({"instruction": "a", "output": "b"}), "line 2: an alpaca row in a chat file"),
        (
            jsonl({"messages": [{"role": "wizard", "content": "hi"}]}),
            "line 1: `messages` message 1 has an unknown role 'wizard'",
        ),
        (jsonl({"messages": [{"role": "user", "content": "hi"}]}), "line 1: no assistant turn to learn from"),
        (
            jsonl({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": ""}]}),
            "no assistant turn",
        ),
        (jsonl({"question": "q", "answer": "a"}), "line 1: not a row of any known format (it has answer, question)"),
        (jsonl(CHAT, [1, 2]), "line 2: a row must be a JSON object, not a list"),
        (jsonl({"messages": "hello"}), "must be a non-empty list of messages"),
    ],
)
def test_bad_files_name_the_line_and_the_reason(data: bytes, words: str) -> None:
    with pytest.raises(FormatError) as caught:
        parse_file(data)
    assert words in str(caught.value)


def test_a_byte_order_mark_is_read_as_nothing() -> None:
    assert parse_file(b"\xef\xbb\xbf" + jsonl(CHAT)).format is DatasetFormat.CHAT


def test_labels_sit_exactly_on_the_assistant_turns(tokenizer: Any) -> None:
    conversation = parse_file(jsonl(CHAT)).rows[0]
    example = render(conversation, tokenizer)
    assert len(example.input_ids) == len(example.labels)
    trained = [t for t, label in zip(example.input_ids, example.labels, strict=True) if label != IGNORE]
    assert tokenizer.decode(trained) == "Paris.<|im_end|>\nBerlin.<|im_end|>\n"
    # every labelled token is the token itself; every other is IGNORE, and they form exactly two spans
    assert all(label in (IGNORE, token) for token, label in zip(example.input_ids, example.labels, strict=True))
    spans = sum(
        1 for i, label in enumerate(example.labels) if label != IGNORE and (i == 0 or example.labels[i - 1] == IGNORE)
    )
    assert spans == 2
    # the user's "<|im_end|>" is text, not the control token, exactly as inference reads it
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert example.input_ids.count(end) == 5  # one per turn: the typed one is not among them
    # what the model is trained to continue is, token for token, what inference sends it
    prefix = chat_token_ids(tokenizer, [ChatMessage(role=t.role, content=t.content) for t in conversation.turns[:4]])
    assert example.input_ids[: len(prefix)] == prefix
    first_answer = example.labels.index(next(label for label in example.labels if label != IGNORE))
    served = chat_token_ids(tokenizer, [ChatMessage(role=t.role, content=t.content) for t in conversation.turns[:2]])
    assert first_answer == len(served)  # the answer's labels start right after the generation prompt


def test_prompt_completion_trains_the_completion_only(tokenizer: Any) -> None:
    example = render(parse_file(jsonl({"prompt": "Say hi.", "completion": "hi"})).rows[0], tokenizer)
    trained = [t for t, label in zip(example.input_ids, example.labels, strict=True) if label != IGNORE]
    assert tokenizer.decode(trained) == "hi<|im_end|>\n"


def test_long_rows_are_truncated_or_dropped_as_set(tokenizer: Any) -> None:
    example = render(parse_file(jsonl(CHAT)).rows[0], tokenizer)
    cut = fit(example, len(example.input_ids) - 3, Overlong.TRUNCATE)
    assert cut is not None and cut.truncated and len(cut.input_ids) == len(example.input_ids) - 3
    assert fit(example, len(example.input_ids) - 3, Overlong.DROP) is None
    assert fit(example, 8, Overlong.TRUNCATE) is None  # nothing trained is left in the first 8 tokens
    assert fit(example, len(example.input_ids), Overlong.DROP) is example


def test_the_held_out_split() -> None:
    rows = parse_file(jsonl(*[{"prompt": f"q{i}", "completion": f"a{i}"} for i in range(60)])).rows
    train, held = split(rows, None, seed=1)
    assert len(held) == 6 and len(train) == 54 and not {r.line for r in train} & {r.line for r in held}
    assert split(rows, None, seed=1) == (train, held)  # the same seed, the same split
    assert split(rows[:49], None, seed=1)[1] == []  # under 50 rows: nothing held out by default
    assert len(split(rows[:10], 0.5, seed=1)[1]) == 5


@pytest.mark.parametrize(
    ("num_samples", "fraction", "held"), [(24, None, 0), (60, None, 6), (None, None, 30), (10, 0.5, 10)]
)
def test_num_samples_sets_the_rows_a_split_comes_from(
    tokenizer: Any, base_settings: Any, num_samples: int | None, fraction: float | None, held: int
) -> None:
    """`numSamples: 24` on the 306-row bundled set trains 24 and holds out nothing by default (27 rows are
    under 50), not 30 rows of the whole file."""
    from messages import FineTuneSpec
    from services.training.sources import resolve_dataset
    from services.training.trainer import Plan, load_data

    spec = FineTuneSpec(job_id="j", adapter_name="a", num_samples=num_samples, validation_fraction=fraction)
    plan = Plan(
        spec=spec,
        source=resolve_dataset("bundled", base_settings.model_cache_dir),
        model=resolve_model(base_settings),
        device="cpu",
        max_length=128,
        batch_size=4,
        seed=1,
    )
    prepared = load_data(plan, tokenizer)
    assert len(prepared.validation) == held
    assert len(prepared.train) == (num_samples or 306 - held)
