"""Reading the model's tool calls out of its answer as it streams: Hermes `<tool_call>` blocks become `ToolCall`s,
everything else stays text.

Fed the text pieces the worker's `TextStream` releases, in order. A block whose JSON does not parse, has no
`name` or object `arguments`, or names a function the request did not offer stays text, as vLLM's Hermes
parser leaves it (vllm/tool_parsers/hermes_tool_parser.py); under a forced grammar that cannot happen.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from messages import FinishReason, GenerateRequest, ToolCall

from .admission import offered_tools
from .hermes import CALL_CLOSE, CALL_OPEN


@dataclass(frozen=True)
class Parsed:
    """What one step of the parser lets out: `text` to send as the chunk's `token` (may be ""), and `calls`
    finished in this step, in the order the model wrote them (may be empty)."""

    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.text or self.calls)


def new_call_id() -> str:
    """`call_` and 24 random hex digits (96 bits, from `secrets`): unique per answer, the shape OpenAI's ids
    have."""
    return "call_" + secrets.token_hex(12)


class ToolCallParser:
    """Splits one answer's text into plain text and tool calls, piece by piece.

    `feed(piece)` returns what is settled: text outside blocks (a piece's end that may start `<tool_call>` is
    held until the next piece says) and the calls whose `</tool_call>` arrived. Text inside an open block is
    held until it closes. `finish()` lets out what is still held: an unclosed block (cut by `max_tokens`)
    goes out as text. Whitespace right after a call is dropped (the newline between two calls, the one
    before the end of turn): text that follows a call starts at its first non-space character.

    `names`: the functions offered (a call of any other stays text). `parallel`: False keeps only the first
    call; a later block goes out as text (OpenAI's `parallel_tool_calls`; the forced grammar stops the model
    after one call anyway).
    """

    def __init__(self, names: Iterable[str], *, parallel: bool = True) -> None:
        self._names = frozenset(names)
        self._parallel = parallel
        self._held = ""  # text not let out yet: a possible start of CALL_OPEN, or an open block (from CALL_OPEN)
        self._in_block = False
        self._after_call = False  # a call was the last thing let out: leading whitespace is dropped
        self.calls = 0  # calls let out so far

    @classmethod
    def for_request(cls, request: GenerateRequest) -> ToolCallParser | None:
        """A parser for `request`'s answer, or None when it offers no tools (`tool_choice` none, no tools):
        then the answer is all text. Raises what `admission.offered_tools` raises."""
        tools = offered_tools(request)
        if not tools:
            return None
        return cls((tool.name for tool in tools), parallel=request.parallel_tool_calls)

    def feed(self, piece: str) -> Parsed:
        """Take the next piece of the answer; returns the text and calls it settles."""
        self._held += piece
        text: list[str] = []
        calls: list[ToolCall] = []
        while True:
            if self._in_block:
                end = self._held.find(CALL_CLOSE)
                if end < 0:
                    break
                block, self._held = self._held[: end + len(CALL_CLOSE)], self._held[end + len(CALL_CLOSE) :]
                self._in_block = False
                call = self._call(block[len(CALL_OPEN) : end])
                if call is not None:
                    calls.append(call)
                    self._after_call = True
                else:
                    text.append(self._text(block))
            else:
                start = self._held.find(CALL_OPEN)
                if start < 0:
                    keep = _partial_open(self._held)
                    text.append(self._text(self._held[: len(self._held) - keep]))
                    self._held = self._held[len(self._held) - keep :]
                    break
                text.append(self._text(self._held[:start]))
                self._held = self._held[start:]
                self._in_block = True
        return Parsed("".join(text), calls)

    def finish(self) -> Parsed:
        """The answer ended: let out what was held, as text (an unclosed block, a trailing `<tool`)."""
        held, self._held, self._in_block = self._held, "", False
        return Parsed(self._text(held))

    def _text(self, text: str) -> str:
        if self._after_call:
            text = text.lstrip()
            self._after_call = not text
        return text

    def _call(self, body: str) -> ToolCall | None:
        """The call `body` (the text between the tags) writes, or None when it is not one to let out."""
        if self.calls and not self._parallel:
            return None
        try:
            value = json.loads(body)
        except ValueError:
            return None
        if not isinstance(value, dict):
            return None
        name, arguments = value.get("name"), value.get("arguments")
        if not isinstance(name, str) or name not in self._names or not isinstance(arguments, dict):
            return None
        self.calls += 1
        compact = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
        return ToolCall(id=new_call_id(), name=name, arguments=compact)


def _partial_open(text: str) -> int:
    """How many characters at the end of `text` may be the start of CALL_OPEN (0 to len(CALL_OPEN) - 1)."""
    for size in range(min(len(CALL_OPEN) - 1, len(text)), 0, -1):
        if CALL_OPEN.startswith(text[-size:]):
            return size
    return 0


def tool_finish_reason(reason: FinishReason, calls: int) -> FinishReason:
    """The answer's finish reason once its calls are known: `tool_calls` when at least one call was let out
    and the model ended on its own (its end of turn, or a stop string, which OpenAI and vLLM also report as
    `stop`); otherwise `reason` as it was (`length` says the answer was cut, `cancelled` and `error` say why
    it stopped, even after a call)."""
    if calls > 0 and reason in (FinishReason.STOP, FinishReason.STOP_STRING):
        return FinishReason.TOOL_CALLS
    return reason
