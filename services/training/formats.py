"""A dataset file's rows read as conversations: the four formats teams' data comes in, detected per file.

| format              | one row                                                                   |
|---------------------|---------------------------------------------------------------------------|
| `chat`              | `{"messages": [{"role": "system"|"user"|"assistant", "content": …}, …]}`  |
| `sharegpt`          | `{"conversations": [{"from": "system"|"human"|"gpt", "value": …}, …]}`     |
| `prompt_completion` | `{"prompt": …, "completion": …}` (text, or lists of chat messages)        |
| `alpaca`            | `{"instruction": …, "input": …, "output": …}` (`input` optional)           |

`chat` is OpenAI's fine-tuning format (an assistant message may carry `"weight": 0` to be left out of the
loss, as there); `sharegpt` takes the role names LLaMA-Factory and Axolotl accept. Every row becomes a
`Conversation`: turns with a role and whether the loss is taken on them (every assistant turn, but those of
weight 0; the completion of a prompt/completion row; the output of an Alpaca row).

A file is JSON Lines (one row a line, blank lines skipped) or one JSON array of rows. Every problem is a
`FormatError` naming the line (JSON Lines) or the row (an array), counted from 1, and saying what is wrong
in words: not UTF-8, not JSON, an unknown format, a second format in one file, an unknown role, a row with
no assistant turn to learn from, an empty file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec


class DatasetFormat(StrEnum):
    CHAT = "chat"
    SHAREGPT = "sharegpt"
    PROMPT_COMPLETION = "prompt_completion"
    ALPACA = "alpaca"


ROLES = ("system", "user", "assistant")
SHAREGPT_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
    "bing": "assistant",
    "bard": "assistant",
}
FORMATS_HINT = (
    "each row needs `messages` (chat), `conversations` (ShareGPT), `prompt` and `completion`, "
    "or `instruction` and `output` (Alpaca)"
)


class FormatError(ValueError):
    """A row (or the whole file) that cannot be trained on; `str()` is a sentence that names the line."""


@dataclass(frozen=True)
class Turn:
    role: str  # system, user or assistant
    content: str
    trained: bool = False  # the loss is taken on this turn's tokens


@dataclass(frozen=True)
class Conversation:
    """One row: its turns in order, and where it came from (`line`: a JSON Lines line, or an array's row)."""

    turns: tuple[Turn, ...]
    line: int

    @property
    def first_question(self) -> str:
        """The first user turn's text (what a held-out comparison asks), else ''."""
        return next((t.content for t in self.turns if t.role == "user"), "")


@dataclass
class ParsedDataset:
    format: DatasetFormat
    rows: list[Conversation] = field(default_factory=list)
    unit: str = "line"  # "line" for JSON Lines, "row" for a JSON array


def parse_file(data: bytes, limit: int | None = None) -> ParsedDataset:
    """Every row of a dataset file (the first `limit` when given). Raises FormatError."""
    data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark, as Windows editors write
    if not data.strip():
        raise FormatError("the file is empty: it has no rows")
    start = data.lstrip()[:1]
    if start == b"[":
        try:
            document = msgspec.json.decode(data)
        except msgspec.DecodeError:
            document = None  # a JSON Lines file whose first row is an array: the line reader says so
        if isinstance(document, list):
            return parse_rows(((i, row) for i, row in enumerate(document, start=1)), "row", limit)
    return parse_rows(_json_lines(data), "line", limit)


def parse_rows(rows: Iterable[tuple[int, object]], unit: str = "row", limit: int | None = None) -> ParsedDataset:
    """Rows numbered by the caller (e.g. a hub dataset's rows), all in one format. Raises FormatError."""
    parsed: ParsedDataset | None = None
    for number, raw in rows:
        where = f"{unit} {number}"
        if not isinstance(raw, dict):
            raise FormatError(f"{where}: a row must be a JSON object, not {_kind(raw)}")
        kind = detect(raw)
        if kind is None:
            has = ", ".join(sorted(map(str, raw))) or "nothing"
            raise FormatError(f"{where}: not a row of any known format (it has {has}); {FORMATS_HINT}")
        if parsed is None:
            parsed = ParsedDataset(format=kind, unit=unit)
        elif kind is not parsed.format:
            raise FormatError(
                f"{where}: {_article(kind.value)} {kind.value} row in {_article(parsed.format.value)} "
                f"{parsed.format.value} file; one file holds one format "
                f"(its first row set it)"
            )
        try:
            turns = _READERS[kind](raw)
        except FormatError as exc:
            raise FormatError(f"{where}: {exc}") from None
        if not any(t.trained and t.content for t in turns):
            raise FormatError(f"{where}: no assistant turn to learn from (every row needs a non-empty answer)")
        parsed.rows.append(Conversation(turns=tuple(turns), line=number))
        if limit is not None and len(parsed.rows) >= limit:
            break
    if parsed is None:
        raise FormatError("the file is empty: it has no rows")
    return parsed


def detect(row: dict[str, Any]) -> DatasetFormat | None:
    """The format a row is in, by its keys; None when it is in none."""
    if "messages" in row:
        return DatasetFormat.CHAT
    if "conversations" in row:
        return DatasetFormat.SHAREGPT
    if "prompt" in row and "completion" in row:
        return DatasetFormat.PROMPT_COMPLETION
    if "instruction" in row and "output" in row:
        return DatasetFormat.ALPACA
    return None


def _json_lines(data: bytes) -> Iterator[tuple[int, object]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"line {number}: not UTF-8 text (byte 0x{line[exc.start]:02x} at column {exc.start + 1}); "
                "save the file as UTF-8"
            ) from None
        try:
            yield number, msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            raise FormatError(f"line {number}: not JSON ({exc}); each line must be one JSON object") from None


def _text(value: object, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise FormatError(f"{what} must be text, not {_kind(value)}")


def _messages(value: object, what: str, *, role_key: str, content_key: str, roles: dict[str, str]) -> list[Turn]:
    if not isinstance(value, list) or not value:
        raise FormatError(f"{what} must be a non-empty list of messages, not {_kind(value)}")
    turns: list[Turn] = []
    for index, message in enumerate(value, start=1):
        if not isinstance(message, dict):
            raise FormatError(f"{what} message {index} must be an object, not {_kind(message)}")
        given = message.get(role_key)
        role = roles.get(given) if isinstance(given, str) else None
        if role is None:
            known = ", ".join(sorted(roles))
            raise FormatError(f"{what} message {index} has an unknown role {given!r} (known: {known})")
        content = _text(message.get(content_key), f"{what} message {index}'s {content_key}")
        weight = message.get("weight", 1)
        if weight not in (0, 1):
            raise FormatError(f"{what} message {index}'s weight must be 0 or 1, not {weight!r}")
        turns.append(Turn(role=role, content=content, trained=role == "assistant" and weight == 1))
    return turns


_CHAT_ROLES = {role: role for role in ROLES}


def _chat(row: dict[str, Any]) -> list[Turn]:
    return _messages(row["messages"], "`messages`", role_key="role", content_key="content", roles=_CHAT_ROLES)


def _sharegpt(row: dict[str, Any]) -> list[Turn]:
    turns = _messages(
        row["conversations"], "`conversations`", role_key="from", content_key="value", roles=SHAREGPT_ROLES
    )
    system = row.get("system")
    if system:
        turns.insert(0, Turn(role="system", content=_text(system, "`system`")))
    return turns


def _prompt_completion(row: dict[str, Any]) -> list[Turn]:
    prompt, completion = row["prompt"], row["completion"]
    if isinstance(prompt, list):
        asked = [
            Turn(t.role, t.content)  # a prompt's own assistant turns are context, not trained on
            for t in _messages(prompt, "`prompt`", role_key="role", content_key="content", roles=_CHAT_ROLES)
        ]
    else:
        asked = [Turn("user", _text(prompt, "`prompt`"))]
    if isinstance(completion, list):
        answer = _messages(completion, "`completion`", role_key="role", content_key="content", roles=_CHAT_ROLES)
        answer = [Turn(t.role, t.content, trained=t.role == "assistant") for t in answer]
    else:
        answer = [Turn("assistant", _text(completion, "`completion`"), trained=True)]
    return asked + answer


def _alpaca(row: dict[str, Any]) -> list[Turn]:
    instruction = _text(row["instruction"], "`instruction`").strip()
    extra = _text(row.get("input"), "`input`").strip()
    if not instruction:
        raise FormatError("`instruction` is empty")
    turns = [Turn("user", f"{instruction}\n\n{extra}" if extra else instruction)]
    system = row.get("system")
    if system:
        turns.insert(0, Turn("system", _text(system, "`system`")))
    return [*turns, Turn("assistant", _text(row["output"], "`output`").strip(), trained=True)]


_READERS = {
    DatasetFormat.CHAT: _chat,
    DatasetFormat.SHAREGPT: _sharegpt,
    DatasetFormat.PROMPT_COMPLETION: _prompt_completion,
    DatasetFormat.ALPACA: _alpaca,
}


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
