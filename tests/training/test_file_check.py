"""A local dataset file's first row is checked before its job is queued (services/training/file_check.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from messages import ErrorCode, SwitchboardError
from services.training.file_check import PEEK_BYTES, check_local_file

ROW = {"instruction": "Say hi.", "input": "", "output": "hi"}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("rows.jsonl", "\n" + json.dumps(ROW) + "\n" + json.dumps(ROW) + "\n"),
        ("rows.json", json.dumps([ROW, ROW])),
        ("columns.json", json.dumps({"instruction": ["a"], "output": ["b"]})),
        ("lines.json", json.dumps(ROW) + "\n" + json.dumps(ROW)),  # JSON Lines named .json: the loader reads it
        ("later-bad.jsonl", json.dumps(ROW) + "\n{not json\n"),  # only the first row is looked at
    ],
)
def test_alpaca_files_pass(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    check_local_file(path, name)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "has no row"),
        ("\n\n", "has no row"),
        ("[]", "has no row"),
        ("[{", "is not JSON or JSON Lines"),
        ("hello", "is not JSON or JSON Lines"),
        ("[1, 2]", "a row is int"),
        ('{"question": "q", "answer": "a"}', "in no known format ('data.jsonl'): its first row has answer, question"),
        ('[{"instruction": "q"}]', "its first row has instruction;"),
        ('{"prompt": "q"}', "`prompt` and `completion`"),
    ],
)
def test_other_files_are_refused_about_the_dataset(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(text)
    with pytest.raises(SwitchboardError) as caught:
        check_local_file(path, "data.jsonl")
    assert caught.value.code is ErrorCode.BAD_REQUEST and caught.value.field == "dataset"
    assert words in caught.value.message and "'data.jsonl'" in caught.value.message


def test_a_large_json_file_is_left_to_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    rows = [ROW] * (PEEK_BYTES // len(json.dumps(ROW)) + 10)
    path.write_text(json.dumps(rows))  # one line longer than what is read: not judged here
    check_local_file(path, "big.json")
