"""A job's training data: Alpaca rows loaded with `datasets`, formatted with the model's chat template,
tokenized with the prompt masked out of the loss, and cut into padded batches."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from messages import ErrorCode, SwitchboardError

from .sources import DatasetSource, SourceKind

IGNORE = -100  # label of a token that is not trained on (prompt and padding)
COLUMNS = ("instruction", "input", "output")


@dataclass(frozen=True)
class Row:
    instruction: str
    input: str
    output: str

    def user_turn(self) -> str:
        return f"{self.instruction}\n\n{self.input}" if self.input else self.instruction


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]  # IGNORE on the prompt, the token ids on the answer


def load_rows(source: DatasetSource, num_samples: int | None, hf_token: str | None) -> list[Row]:
    """The first `num_samples` usable rows (all when None); raises SwitchboardError with a readable reason."""
    from datasets import load_dataset

    try:
        if source.kind is SourceKind.HUB:
            loaded: Any = load_dataset(source.location, split="train", token=hf_token)
        else:
            loaded = load_dataset("json", data_files=source.location, split="train")
    except ConnectionError as exc:
        raise SwitchboardError(
            ErrorCode.OFFLINE,
            f"cannot load dataset {source.location!r}: the Hugging Face hub is not reachable from the training "
            f"service ({_short(exc)}); use a local .json/.jsonl file or 'bundled'",
        ) from exc
    except FileNotFoundError as exc:
        raise SwitchboardError(ErrorCode.NOT_FOUND, f"dataset {source.location!r} not found: {_short(exc)}") from exc
    except Exception as exc:  # datasets raises many kinds: unreadable JSON, gated sets, missing splits
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST, f"cannot load dataset {source.location!r}: {type(exc).__name__}: {_short(exc)}"
        ) from exc
    names = list(getattr(loaded, "column_names", None) or [])
    missing = [c for c in ("instruction", "output") if c not in names]
    if missing:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            f"dataset {source.location!r} is not in Alpaca format: it lacks {', '.join(missing)} "
            f"(it has {', '.join(names) or 'no columns'}); each row needs instruction, output and optionally input",
        )
    rows: list[Row] = []
    for raw in loaded:
        row = Row(
            instruction=_text(raw.get("instruction")),
            input=_text(raw.get("input")),
            output=_text(raw.get("output")),
        )
        if row.instruction and row.output:
            rows.append(row)
        if num_samples is not None and len(rows) >= num_samples:
            break
    if not rows:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST, f"dataset {source.location!r} has no row with both an instruction and an output"
        )
    return rows


def build_examples(rows: list[Row], tokenizer: Any, max_length: int) -> list[Example]:
    """Tokenize each row as one user turn and one assistant turn; only the answer's tokens carry labels.

    Rows whose answer is cut off entirely by `max_length` are left out.
    """
    examples: list[Example] = []
    for row in rows:
        prompt, answer = _format(row, tokenizer)
        prompt_ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        answer_ids = list(tokenizer(answer, add_special_tokens=False)["input_ids"])
        input_ids = (prompt_ids + answer_ids)[:max_length]
        labels = ([IGNORE] * len(prompt_ids) + answer_ids)[:max_length]
        if any(label != IGNORE for label in labels):
            examples.append(Example(input_ids=input_ids, labels=labels))
    if not examples:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            f"every prompt is longer than the {max_length} tokens a training example may have "
            "(TRAIN_MAX_LENGTH); nothing is left to learn from",
        )
    return examples


def _format(row: Row, tokenizer: Any) -> tuple[str, str]:
    """(prompt, answer) as text: the chat template's user turn and generation prompt, then the rest."""
    user = [{"role": "user", "content": row.user_turn()}]
    if getattr(tokenizer, "chat_template", None):
        prompt = str(tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True))
        full = str(tokenizer.apply_chat_template([*user, {"role": "assistant", "content": row.output}], tokenize=False))
        if full.startswith(prompt):
            return prompt, full[len(prompt) :]
        return prompt, row.output + (tokenizer.eos_token or "")
    prompt = f"### Instruction:\n{row.user_turn()}\n\n### Response:\n"
    return prompt, row.output + (tokenizer.eos_token or "")


def micro_batches_per_epoch(examples: int, batch_size: int) -> int:
    return math.ceil(examples / batch_size)


def batches(examples: list[Example], batch_size: int, pad_id: int, seed: int) -> Iterator[dict[str, torch.Tensor]]:
    """Padded batches forever, reshuffled each epoch (deterministic for a seed)."""
    order = list(range(len(examples)))
    shuffle = random.Random(seed)
    while True:
        shuffle.shuffle(order)
        for start in range(0, len(order), batch_size):
            yield collate([examples[i] for i in order[start : start + batch_size]], pad_id)


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


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


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
