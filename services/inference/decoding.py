"""Turning a stream of token ids into text pieces, and cutting the text at stop strings."""

from __future__ import annotations

from typing import Any


class IncrementalDecoder:
    """Decode one token at a time without splitting multi-byte characters or word-piece spacing.

    Keeps a short window of recent ids so each step decodes a few tokens, not the whole answer.
    """

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0

    def push(self, token_id: int) -> str:
        self._ids.append(token_id)
        prefix = self._tokenizer.decode(self._ids[self._prefix_offset : self._read_offset], skip_special_tokens=True)
        full = self._tokenizer.decode(self._ids[self._prefix_offset :], skip_special_tokens=True)
        if len(full) > len(prefix) and not full.endswith("\ufffd"):
            self._prefix_offset = self._read_offset
            self._read_offset = len(self._ids)
            return str(full[len(prefix) :])
        return ""


class StopStringFilter:
    """Holds back text that might be the start of a stop string; reports when one appears."""

    def __init__(self, stops: list[str]) -> None:
        self._stops = [s for s in stops if s]
        self._hold = max((len(s) for s in self._stops), default=1) - 1
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Return the text that is safe to emit now."""
        if self.stopped:
            return ""
        if not self._stops:
            return text
        self._pending += text
        cut = min((i for i in (self._pending.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self._pending = self._pending[:cut], ""
            return out
        if len(self._pending) <= self._hold:
            return ""
        out = self._pending[: len(self._pending) - self._hold]
        self._pending = self._pending[len(out) :]
        return out

    def flush(self) -> str:
        out, self._pending = ("" if self.stopped else self._pending), ""
        return out


class TextStream:
    """One generation's token ids turned into the text to send, with its stop rules: end of turn, stop
    strings and the length limit. Both engine cores feed it one sampled id at a time.

    `push` returns the text safe to send now (may be ""); once `finish_reason` is set, the generation is over
    and `tail()` gives what was held back.
    """

    def __init__(self, tokenizer: Any, stops: list[str], eos_ids: set[int], max_new_tokens: int) -> None:
        self._decoder = IncrementalDecoder(tokenizer)
        self._stops = StopStringFilter(stops)
        self._eos = eos_ids
        self._max_new_tokens = max_new_tokens
        self.count = 0  # tokens sampled, end-of-turn included
        self.finish_reason: str | None = None  # "stop", "stop_string" or "length" (FinishReason values)

    def push(self, token_id: int) -> str:
        if self.finish_reason is not None:
            return ""
        self.count += 1
        text = ""
        if token_id in self._eos:
            self.finish_reason = "stop"
        else:
            text = self._stops.feed(self._decoder.push(token_id))
            if self._stops.stopped:
                self.finish_reason = "stop_string"
        if self.finish_reason is None and self.count >= self._max_new_tokens:
            self.finish_reason = "length"
        return text

    @property
    def ended_turn(self) -> bool:
        """Whether the last token pushed was an end-of-turn token (the answer finished with `stop`)."""
        return self.finish_reason == "stop"

    def tail(self) -> str:
        """The text held back for a possible stop string, once the generation is over."""
        return self._stops.flush()
