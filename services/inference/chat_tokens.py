"""A chat as token ids, every message's text read as text: never as the model's control tokens.

Tokenizing a rendered chat template in one go reads `<|im_start|>` typed by a user as the model's real
turn marker, so anyone could forge a `system` turn inside a message. Here the template is rendered with
a placeholder for each message's content; the template's own text is tokenized as usual (its control
tokens are real), and each content with `split_special_tokens=True` (the same characters, as plain
text). A template that does not keep a placeholder as it is (it edits message content) cannot be split
so: then the whole prompt is read as plain text, which is safe but weakens the template's markers, and
a warning says so once.
"""

from __future__ import annotations

import logging
from typing import Any

from messages import ChatMessage

log = logging.getLogger("switchboard.inference")
_warned = False


def _placeholder(index: int) -> str:
    # Unicode private-use characters: in no template, not trimmed, never split by Jinja filters
    return f"\ue000{index}\ue001"


def chat_token_ids(tokenizer: Any, chat: list[ChatMessage]) -> list[int]:
    """The prompt for `chat` (with the generation prompt), as a list of token ids."""
    if not getattr(tokenizer, "chat_template", None):
        text = "\n".join(m.content for m in chat)
        return list(tokenizer(text, split_special_tokens=True)["input_ids"])
    marked = [{"role": m.role, "content": _placeholder(i)} for i, m in enumerate(chat)]
    rendered = str(tokenizer.apply_chat_template(marked, tokenize=False, add_generation_prompt=True))
    ids: list[int] = []
    rest = rendered
    for index, message in enumerate(chat):
        before, found, after = rest.partition(_placeholder(index))
        if not found:
            return _all_as_text(tokenizer, chat)
        ids += tokenizer.encode(before, add_special_tokens=False)  # the template's text, markers included
        ids += tokenizer.encode(message.content, add_special_tokens=False, split_special_tokens=True)
        rest = after
    return ids + list(tokenizer.encode(rest, add_special_tokens=False))


def _all_as_text(tokenizer: Any, chat: list[ChatMessage]) -> list[int]:
    global _warned
    if not _warned:
        _warned = True
        log.warning("the chat template edits message text; the whole prompt is read as plain text")
    rendered = tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in chat], tokenize=False, add_generation_prompt=True
    )
    return list(tokenizer.encode(str(rendered), add_special_tokens=False, split_special_tokens=True))
