"""A job's training data: rows read in any of the four formats (`formats`), split into training and held-out
rows, rendered and masked with the chat template (`render`), cut to length, and served as padded batches.

The batch order is a pure function of (seed, micro-batch index), so a job resumed from a checkpoint at
micro-batch n sees exactly the batches it would have seen (`batches(..., start=n)`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from messages import ErrorCode, SwitchboardError

from .formats import Conversation, DatasetFormat, FormatError, ParsedDataset, parse_file, parse_rows
from .render import IGNORE, Example, Overlong, fit, render
from .sources import DATASET_FIELD, DatasetSource, SourceKind

__all__ = ["IGNORE", "Example", "Prepared", "batches", "collate", "load_rows", "prepare"]

DEFAULT_VALIDATION_FRACTION = 0.1  # held out when a dataset has at least MIN_ROWS_TO_SPLIT rows
MIN_ROWS_TO_SPLIT = 50
MAX_VALIDATION_ROWS = 200  # an evaluation reads at most this many rows (it runs every few steps on a CPU)
HELD_OUT_PROMPTS = 8  # first questions of the held-out rows kept on the job, for Compare


@dataclass
class Prepared:
    """What a job trains and evaluates on, with the counts its record shows."""

    format: DatasetFormat
    train: list[Example]
    validation: list[Example] = field(default_factory=list)
    truncated: int = 0  # rows cut to TRAIN_MAX_LENGTH
    dropped: int = 0  # rows left out: too long (TRAIN_OVERLONG=drop), or nothing left to learn once cut
    held_out_prompts: list[str] = field(default_factory=list)


def load_rows(
    source: DatasetSource, num_samples: int | None, hf_token: str | None, field_name: str = DATASET_FIELD
) -> ParsedDataset:
    """Every row of `source` (the first `num_samples` when given), parsed. Raises SwitchboardError about
    `field_name` that names the line and the reason."""
    shown = source.shown or source.location
    try:
        if source.kind is SourceKind.HUB:
            return parse_rows(_hub_rows(source, hf_token), "row", num_samples)
        return parse_file(Path(source.location).read_bytes(), num_samples)
    except FormatError as exc:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"{shown!r}: {exc}", field_name) from None
    except FileNotFoundError:
        raise SwitchboardError(ErrorCode.NOT_FOUND, f"{shown!r} is gone", field_name) from None


def _hub_rows(source: DatasetSource, hf_token: str | None) -> Iterator[tuple[int, object]]:
    from datasets import load_dataset

    try:
        loaded: Any = load_dataset(source.location, split="train", token=hf_token)
    except ConnectionError as exc:
        raise SwitchboardError(
            ErrorCode.OFFLINE,
            f"cannot load dataset {source.location!r}: the Hugging Face hub cannot be reached from the server; "
            "upload the file instead, or use 'bundled'",
            DATASET_FIELD,
        ) from exc
    except FileNotFoundError as exc:
        raise SwitchboardError(
            ErrorCode.NOT_FOUND, f"dataset {source.location!r} not found: {_short(exc)}", DATASET_FIELD
        ) from exc
    except Exception as exc:  # datasets raises many kinds: unreadable JSON, gated sets, missing splits
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            f"cannot load dataset {source.location!r}: {type(exc).__name__}: {_short(exc)}",
            DATASET_FIELD,
        ) from exc
    yield from enumerate(loaded, start=1)


def split(rows: list[Conversation], fraction: float | None, seed: int) -> tuple[list[Conversation], list[Conversation]]:
    """(training rows, held-out rows): `fraction` of the rows (None: 0.1 from 50 rows on, else none), picked
    with `seed`, at most MAX_VALIDATION_ROWS; at least one row always stays for training."""
    if fraction is None:
        fraction = DEFAULT_VALIDATION_FRACTION if len(rows) >= MIN_ROWS_TO_SPLIT else 0.0
    count = min(MAX_VALIDATION_ROWS, math.floor(len(rows) * fraction), len(rows) - 1)
    if count <= 0:
        return rows, []
    picked = set(random.Random(seed).sample(range(len(rows)), count))
    return [r for i, r in enumerate(rows) if i not in picked], [r for i, r in enumerate(rows) if i in picked]


def prepare(
    train_rows: list[Conversation],
    validation_rows: list[Conversation],
    fmt: DatasetFormat,
    tokenizer: Any,
    max_length: int,
    overlong: Overlong,
) -> Prepared:
    """Render, mask and cut every row. Raises SwitchboardError when no training row is left."""
    prepared = Prepared(format=fmt, train=[], held_out_prompts=_questions(validation_rows))
    for rows, out in ((train_rows, prepared.train), (validation_rows, prepared.validation)):
        for row in rows:
            example = fit(render(row, tokenizer), max_length, overlong)
            if example is None:
                prepared.dropped += 1
                continue
            prepared.truncated += example.truncated
            out.append(example)
    if not prepared.train:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            f"every row is longer than the {max_length} tokens a training example may have "
            f"(TRAIN_MAX_LENGTH, TRAIN_OVERLONG={overlong.value}); nothing is left to learn from",
            DATASET_FIELD,
        )
    return prepared


def _questions(rows: list[Conversation]) -> list[str]:
    questions = [q for row in rows if (q := row.first_question.strip())]
    return questions[:HELD_OUT_PROMPTS]


def micro_batches_per_epoch(examples: int, batch_size: int) -> int:
    return math.ceil(examples / batch_size)


def batches(
    examples: list[Example], batch_size: int, pad_id: int, seed: int, start: int = 0
) -> Iterator[dict[str, torch.Tensor]]:
    """Padded batches forever from micro-batch `start` on; epoch e's order is a shuffle seeded by (seed, e)."""
    per_epoch = micro_batches_per_epoch(len(examples), batch_size)
    index = start
    while True:
        epoch, offset = divmod(index, per_epoch)
        order = list(range(len(examples)))
        random.Random(f"{seed}:{epoch}").shuffle(order)
        for begin in range(offset * batch_size, len(order), batch_size):
            yield collate([examples[i] for i in order[begin : begin + batch_size]], pad_id)
            index += 1


def evaluation_batches(examples: list[Example], batch_size: int, pad_id: int) -> Iterator[dict[str, torch.Tensor]]:
    """The held-out rows once, in order, longest first (less padding per batch)."""
    ordered = sorted(examples, key=lambda e: len(e.input_ids), reverse=True)
    for begin in range(0, len(ordered), batch_size):
        yield collate(ordered[begin : begin + batch_size], pad_id)


def collate(batch: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors: input_ids, attention_mask, labels (IGNORE on padding)."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for i, example in enumerate(batch):
        n = len(example.input_ids)
        ids[i, :n] = torch.tensor(example.input_ids, dtype=torch.long)
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(example.labels, dtype=torch.long)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _short(exc: BaseException, limit: int = 300) -> str:
    """The error's text, with its root cause's when that says more (datasets wraps parse errors)."""
    root = exc
    for _ in range(10):  # bounded: a chain may loop
        inner = root.__cause__ or (None if root.__suppress_context__ else root.__context__)
        if inner is None:
            break
        root = inner
    text = " ".join(str(exc).split()) or type(exc).__name__
    if root is not exc:
        text += f" ({type(root).__name__}: {' '.join(str(root).split())})"
    return text if len(text) <= limit else text[: limit - 1] + "…"
