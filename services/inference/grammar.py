"""Structured output with the grammar engine (PyPI `xgrammar`, as vLLM and SGLang use it): a request's
constraint compiled into a grammar once per distinct schema (the compiler caches), and per row of the batch a
matcher that masks the logits to the tokens the grammar allows next.

`Grammars` (one per `ModelRunner`) compiles JSON Schema, any JSON object, a regex, a list of choices, and the
engine's structural tags (forced tool calls). `RowGrammar` is one answer's matcher; `mask_rows` applies the
matchers of a step's constrained rows to their rows of the logits, in place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import msgspec
import torch
import xgrammar as xgr

from messages import ChoiceConstraint, Constraint, ErrorCode, JsonConstraint, RegexConstraint, SwitchboardError

# `{"type": "json"}` without a schema: any JSON object (OpenAI's `json_object`); extra keys allowed
ANY_OBJECT_SCHEMA = '{"type": "object"}'
# what the compiler's cache of compiled grammars may hold; past it xgrammar drops the least recently used
# (a 20-property schema's grammar takes tens of KiB)
CACHE_BYTES = 256 * 2**20
# xgrammar prefixes its errors with "[hh:mm:ss] /project/cpp/<file>.cc:<line>: "; a user reads what follows
_ENGINE_PREFIX = re.compile(r"^\s*\[[0-9:]+\]\s+\S+:\d+:\s*(Check failed: \(.*?\) is false:\s*)?")


def constraint_kind(constraint: Constraint) -> str:
    """`json_schema`, `json_object`, `regex` or `choice`: the metrics' label for a constraint."""
    if isinstance(constraint, JsonConstraint):
        return "json_object" if constraint.schema is None else "json_schema"
    return "regex" if isinstance(constraint, RegexConstraint) else "choice"


def constraint_text(constraint: Constraint) -> str:
    """What is compiled for `constraint`: the schema as JSON text, the regex, or an EBNF alternation of the
    choices (each a JSON-escaped string literal, which xgrammar's EBNF reads). Its length is what
    INFERENCE_MAX_CONSTRAINT_CHARS bounds."""
    if isinstance(constraint, JsonConstraint):
        if constraint.schema is None:
            return ANY_OBJECT_SCHEMA
        return msgspec.json.encode(constraint.schema).decode()
    if isinstance(constraint, RegexConstraint):
        return constraint.pattern
    return "root ::= " + " | ".join(json.dumps(choice, ensure_ascii=False) for choice in constraint.choices)


def engine_words(exc: BaseException) -> str:
    """An xgrammar error's own message without its source-file prefix (one line)."""
    text = _ENGINE_PREFIX.sub("", str(exc).strip()).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class CompiledConstraint:
    """A compiled grammar and what it came from (`kind` as `constraint_kind` names it, or `structural_tag`)."""

    grammar: xgr.CompiledGrammar
    kind: str


class Grammars:
    """One model's grammar compiler: `xgrammar.TokenizerInfo` of its tokenizer with `vocab_size` the width of
    the model's logits (`config.vocab_size`; it may exceed the tokenizer's length), and one `GrammarCompiler`
    whose cache keeps compiled grammars by their text, up to `CACHE_BYTES` (a 20-property schema compiles in
    about 8-15 ms on the 2-core development machine, a cached one in about 0.1 ms). `stop_ids`: the model's
    end-of-turn tokens, which a matcher accepts once its grammar is complete. Thread-safe: compile on any
    thread."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_ids: set[int], *, threads: int = 1) -> None:
        self.info = xgr.TokenizerInfo.from_huggingface(
            tokenizer, vocab_size=vocab_size, stop_token_ids=sorted(stop_ids) or None
        )
        self.vocab_size = vocab_size
        self._decoded: list[bytes] | None = None  # `token_bytes`' table, built on first use
        self._compiler = xgr.GrammarCompiler(
            self.info, max_threads=threads, cache_enabled=True, cache_limit_bytes=CACHE_BYTES
        )

    def token_bytes(self, token: int) -> bytes:
        """The raw bytes a token stands for (xgrammar's decoded vocabulary: byte-level BPE and byte-fallback
        tokens undone), e.g. b"\\xf0\\x9f" for the first of an emoji's tokens, whose text decodes to "\ufffd"."""
        if self._decoded is None:
            self._decoded = [bytes(piece) for piece in self.info.decoded_vocab]
        return self._decoded[token] if 0 <= token < len(self._decoded) else b""

    @property
    def compiler(self) -> xgr.GrammarCompiler:
        """The caching compiler itself (tool schemas are checked with it: `tools.check_tool_schemas`)."""
        return self._compiler

    def compile(self, constraint: Constraint) -> CompiledConstraint:
        """Compile a request's constraint (cached by its text). JSON Schema compiles in xgrammar's strict mode
        (no properties or items the schema does not name) without free whitespace, so a small model cannot
        wander into endless blanks.

        Raises `SwitchboardError` BAD_REQUEST, field `constraint`, when the engine cannot compile it (an
        unsupported or malformed schema, a bad regex)."""
        kind = constraint_kind(constraint)
        text = constraint_text(constraint)
        try:
            if isinstance(constraint, JsonConstraint):
                grammar = self._compiler.compile_json_schema(
                    text, any_whitespace=False, strict_mode=constraint.schema is not None
                )
            elif isinstance(constraint, RegexConstraint):
                grammar = self._compiler.compile_regex(text)
            else:
                assert isinstance(constraint, ChoiceConstraint)
                grammar = self._compiler.compile_grammar(text)
        except (RuntimeError, ValueError, TypeError) as exc:
            what = {"json_schema": "JSON schema", "regex": "regex"}.get(kind, kind)
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"holds a {what} the grammar engine cannot use: {engine_words(exc)}",
                "constraint",
            ) from exc
        return CompiledConstraint(grammar, kind)

    def compile_structural_tag(self, tag: xgr.StructuralTag | dict[str, Any] | str) -> CompiledConstraint:
        """Compile an xgrammar structural tag (e.g. `xgrammar.get_model_structural_tag(...)` for forced tool
        calls), cached like the others (a repeat of the same tag takes about 0.1 ms).

        Raises `SwitchboardError` BAD_REQUEST, field `tools`, when the engine rejects it (a function's
        parameters are not a schema it can use)."""
        try:
            grammar = self._compiler.compile_structural_tag(tag)
        except (RuntimeError, ValueError, TypeError) as exc:  # InvalidStructuralTagError is a RuntimeError
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST, f"cannot be held to by the grammar engine: {engine_words(exc)}", "tools"
            ) from exc
        return CompiledConstraint(grammar, "structural_tag")


class RowGrammar:
    """One answer's place in its grammar: which tokens may come next, and whether the grammar is done (its
    stop token accepted: the answer finishes with `stop`)."""

    def __init__(self, compiled: CompiledConstraint) -> None:
        self._matcher = xgr.GrammarMatcher(compiled.grammar)

    def fill(self, bitmask: torch.Tensor, row: int) -> None:
        """Write the allowed next tokens into row `row` of `bitmask` (`xgrammar.allocate_token_bitmask`)."""
        self._matcher.fill_next_token_bitmask(bitmask, row)

    def accept(self, token: int) -> bool:
        """Advance past `token`; False when the grammar does not allow it (the mask was not applied)."""
        return bool(self._matcher.accept_token(token))

    @property
    def terminated(self) -> bool:
        return bool(self._matcher.is_terminated())


# the token of a row whose grammar allows none next (`mask_rows` names such rows); never a real token id
DEAD_END = -1


def mask_rows(logits: torch.Tensor, grammars: list[tuple[int, RowGrammar]], vocab_size: int) -> set[int]:
    """Set to -inf, in place, each listed row's logits the row's grammar does not allow next; returns the
    listed rows whose grammar allows no token at all (an empty bitmask: nothing can be sampled there, and a
    softmax of the row would be NaN).

    `logits`: `[rows, vocab]`, float, on any device; `grammars`: (row index, that row's grammar) pairs. The
    other rows are left as they are."""
    if not grammars:
        return set()
    bitmask = xgr.allocate_token_bitmask(logits.shape[0], vocab_size)
    for row, grammar in grammars:
        grammar.fill(bitmask, row)
    rows = [row for row, _ in grammars]
    xgr.apply_token_bitmask_inplace(logits, bitmask.to(logits.device), vocab_size=vocab_size, indices=rows)
    allowed = bitmask[rows].any(dim=-1).tolist()
    return {row for row, anything in zip(rows, allowed, strict=True) if not anything}
