"""A conversation as training tokens: rendered with the base model's own chat template, tokenized exactly as
inference tokenizes a chat (`services.inference.chat_tokens`: the template's text as text with its control
tokens, each message's content with `split_special_tokens=True`), and labelled on the trained turns only.

A trained assistant turn's labels cover its content and the template's text that closes the turn (for
ChatML `<|im_end|>\\n`), so the adapter learns to stop; every other token (system and user turns, the
template's markers, an assistant turn of weight 0) is labelled `IGNORE`. Rule and figure from the
Hugging Face chat-template docs ("assistant-only loss", `{% generation %}` blocks), done here by rendering
without needing the template to mark the spans, since most templates (SmolLM2's included) do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .formats import Conversation

IGNORE = -100  # label of a token that is not trained on (PyTorch's cross-entropy `ignore_index`)


class Overlong(StrEnum):
    """What happens to a row longer than TRAIN_MAX_LENGTH tokens (TRAIN_OVERLONG)."""

    TRUNCATE = "truncate"  # keep its first tokens (dropped all the same when no trained token is left)
    DROP = "drop"


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]  # IGNORE where the loss is not taken, else the token id
    line: int = 0  # the dataset line (or row) it came from
    truncated: bool = False


def _placeholder(index: int) -> str:
    return f"\ue000{index}\ue001"  # Unicode private use: in no template, never trimmed (as inference does)


def render(conversation: Conversation, tokenizer: Any) -> Example:
    """All of `conversation`'s tokens with their labels (no length limit)."""
    turns = conversation.turns
    if not getattr(tokenizer, "chat_template", None):
        return _plain(conversation, tokenizer)
    marked = [{"role": t.role, "content": _placeholder(i)} for i, t in enumerate(turns)]
    rendered = str(tokenizer.apply_chat_template(marked, tokenize=False))
    ids: list[int] = []
    labels: list[int] = []

    def add(text: str, trained: bool, *, content: bool = False) -> None:
        if not text:
            return
        piece = list(tokenizer.encode(text, add_special_tokens=False, split_special_tokens=content))
        ids.extend(piece)
        labels.extend(piece if trained else [IGNORE] * len(piece))

    rest = rendered
    for index, turn in enumerate(turns):
        before, found, after = rest.partition(_placeholder(index))
        if not found:  # the template edits contents: it cannot be split into turns
            return _plain(conversation, tokenizer)
        if index > 0:
            before = _close_turn(before, _closing(tokenizer, marked, index - 1, turns[index - 1].trained), add)
        add(before, False)
        add(turn.content, turn.trained, content=True)
        rest = after
    rest = _close_turn(rest, _closing(tokenizer, marked, len(turns) - 1, turns[-1].trained), add)
    add(rest, False)
    return Example(input_ids=ids, labels=labels, line=conversation.line)


def fit(example: Example, max_length: int, overlong: Overlong) -> Example | None:
    """`example` cut to `max_length` tokens (or None when it must go: too long to keep, nothing left to learn)."""
    if len(example.input_ids) <= max_length:
        return example
    if overlong is Overlong.DROP:
        return None
    labels = example.labels[:max_length]
    if all(label == IGNORE for label in labels):
        return None
    return Example(example.input_ids[:max_length], labels, example.line, truncated=True)


def _close_turn(text: str, close: str, add: Any) -> str:
    """Add `text`'s start that closes a trained turn (labelled); return the rest."""
    if close and text.startswith(close):
        add(close, True)
        return text[len(close) :]
    return text


def _closing(tokenizer: Any, marked: list[dict[str, str]], index: int, trained: bool) -> str:
    """The template's text right after message `index` that closes its turn (e.g. `<|im_end|>\\n`)."""
    if not trained:
        return ""
    alone = str(tokenizer.apply_chat_template(marked[: index + 1], tokenize=False))
    _, found, after = alone.partition(_placeholder(index))
    return after if found else ""


def _plain(conversation: Conversation, tokenizer: Any) -> Example:
    """No usable chat template: turns as plain text lines, each trained turn ending with EOS."""
    ids: list[int] = []
    labels: list[int] = []
    eos = tokenizer.eos_token or ""
    for turn in conversation.turns:
        text = f"{turn.content}{eos}" if turn.trained else f"{turn.content}\n"
        piece = list(tokenizer.encode(text, add_special_tokens=False))
        ids.extend(piece)
        labels.extend(piece if turn.trained else [IGNORE] * len(piece))
    return Example(input_ids=ids, labels=labels, line=conversation.line)
