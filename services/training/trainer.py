"""One fine-tune, blocking (`child.run_child` runs it in a process of its own): LoRA in float32 on CPU,
QLoRA on CUDA as in the original spec.

A plain torch loop, so every optimizer step is reported as it happens and a cancel lands within one
micro-batch. On CUDA the base model is loaded in 4-bit (nf4), prepared for k-bit training with gradient
checkpointing, and trained with `paged_adamw_8bit`, batch 1 and 8 accumulated micro-batches.

Held-out evaluation: the mean per-token loss on the held-out rows' trained tokens, for the base model
(step 0) and every `eval_every` steps and at the end; with early stopping the adapter kept is the one
with the lowest held-out loss (its LoRA weights are copied in memory when it is reached).
Checkpoints (`Checkpoint`): the LoRA weights, optimizer, schedule, RNG state, data position, losses and
evaluations, handed to `Hooks.on_checkpoint` as bytes (`torch.save`, read back with `weights_only=True`).

Why not TRL's SFTTrainer (issue 21 asks to prefer it): its assistant-only loss needs a chat template with
`{% generation %}` markers, which SmolLM2's and most templates lack (`render` finds the spans without
them, tokenized exactly as inference does); and this loop must report every step on NATS, stop within a
micro-batch on cancel, and checkpoint into the Object Store rather than a folder on one host.
"""

from __future__ import annotations

import io
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from messages import ErrorCode, FineTuneSpec, SwitchboardError, TrainingStage
from services.runtime import ModelSource

from .examples import (
    DEFAULT_VALIDATION_FRACTION,
    IGNORE,
    MAX_VALIDATION_ROWS,
    Example,
    Prepared,
    batches,
    evaluation_batches,
    load_rows,
    micro_batches_per_epoch,
    prepare,
    split,
)
from .render import Overlong
from .sources import DatasetSource

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
CUDA_BATCH_SIZE = 1
CUDA_GRAD_ACCUM = 8
MAX_GRAD_NORM = 1.0
EVALUATIONS_PER_JOB = 10  # without evalEverySteps, about this many evaluations per job
VALIDATION_FIELD = "validation_dataset"


class Cancelled(Exception):
    """The job's cancel event was set; the partial adapter is discarded."""


class Flag(Protocol):
    """A threading or multiprocessing Event."""

    def is_set(self) -> bool: ...


class Hooks(Protocol):
    """How the trainer reports; called from the training thread."""

    def on_phase(self, stage: TrainingStage) -> None: ...

    def on_prepared(self, prepared: Prepared, total_steps: int) -> None: ...

    def on_step(self, step: int, loss: float, evaluation: Evaluation | None) -> None:
        """A step's training loss, with the held-out evaluation made right after it, if one was."""

    def on_eval(self, evaluation: Evaluation) -> None:
        """The base model's held-out loss (step 0), before any training."""

    def on_checkpoint(self, step: int, data: bytes) -> None: ...


@dataclass(frozen=True)
class Evaluation:
    step: int
    loss: float  # mean per trained token of the held-out rows
    best_step: int | None  # with early stopping: the step whose adapter is kept so far


@dataclass(frozen=True)
class Plan:
    spec: FineTuneSpec
    source: DatasetSource
    model: ModelSource
    device: str  # "cpu" or "cuda"
    max_length: int
    batch_size: int  # on CPU; CUDA uses the original spec's 1 x 8
    seed: int
    hf_token: str | None = None
    cancel: Flag = field(default_factory=threading.Event)  # a multiprocessing Event in a training process
    hand_back: Flag = field(default_factory=threading.Event)  # set with `cancel`: checkpoint first
    validation: DatasetSource | None = None  # a held-out dataset of its own (else a fraction of `source`)
    overlong: Overlong = Overlong.TRUNCATE
    checkpoint_every_s: float = 120.0  # when the spec gives no checkpoint_every_steps
    resume: bytes | None = None  # a checkpoint to go on from

    @property
    def micro_batch(self) -> int:
        return CUDA_BATCH_SIZE if self.device == "cuda" else self.batch_size

    @property
    def grad_accum(self) -> int:
        return CUDA_GRAD_ACCUM if self.device == "cuda" else 1


@dataclass(frozen=True)
class Result:
    steps: int
    losses: list[float]
    best_step: int | None = None  # with early stopping: the step whose weights were saved

    @property
    def final_loss(self) -> float | None:
        return self.losses[-1] if self.losses else None


@dataclass
class _Progress:
    """What a checkpoint holds besides the weights and optimizer: where the job is and what it measured."""

    step: int = 0
    losses: list[float] = field(default_factory=list)
    evals: list[tuple[int, float]] = field(default_factory=list)
    best_loss: float = math.inf
    best_step: int | None = None
    best_state: dict[str, torch.Tensor] | None = None  # with early stopping: the best LoRA weights
    worse: int = 0  # evaluations since the best one


def pick_device(setting: str) -> str:
    """`auto` means CUDA when present; asking for CUDA without one is an error."""
    if setting == "cuda" and not torch.cuda.is_available():
        raise SwitchboardError(ErrorCode.UNAVAILABLE, "TRAIN_DEVICE=cuda but no CUDA GPU is visible")
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return setting


def total_steps(examples: int, plan: Plan) -> int:
    per_epoch = math.ceil(micro_batches_per_epoch(examples, plan.micro_batch) / plan.grad_accum)
    total = max(1, math.ceil(per_epoch * plan.spec.num_epochs))
    return min(total, plan.spec.max_steps) if plan.spec.max_steps is not None else total


def load_data(plan: Plan, tokenizer: Any) -> Prepared:
    """The job's training and held-out examples. Raises SwitchboardError naming the dataset and line."""
    spec = plan.spec
    if plan.validation is not None:
        parsed = load_rows(plan.source, spec.num_samples, plan.hf_token)
        held_out = load_rows(plan.validation, MAX_VALIDATION_ROWS, plan.hf_token, VALIDATION_FIELD).rows
        train_rows = parsed.rows
    else:
        parsed = load_rows(plan.source, None, plan.hf_token)
        rows = parsed.rows
        if spec.num_samples is not None:  # the held-out share comes from the rows right after those trained on
            fraction = DEFAULT_VALIDATION_FRACTION if spec.validation_fraction is None else spec.validation_fraction
            rows = rows[: math.ceil(spec.num_samples / (1.0 - fraction))]
        train_rows, held_out = split(rows, spec.validation_fraction, plan.seed)
        if spec.num_samples is not None:
            train_rows = train_rows[: spec.num_samples]
    return prepare(train_rows, held_out, parsed.format, tokenizer, plan.max_length, plan.overlong)


def train(plan: Plan, hooks: Hooks, out_dir: Path) -> Result:
    """Train, save the adapter's files into `out_dir`, return the losses. Raises `Cancelled` or SwitchboardError."""
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    _quiet()
    torch.manual_seed(plan.seed)
    hooks.on_phase(TrainingStage.LOADING_DATA)
    tokenizer: Any = AutoTokenizer.from_pretrained(plan.model.location, token=plan.hf_token)
    pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id or 0)
    prepared = load_data(plan, tokenizer)
    if plan.spec.early_stopping_patience is not None and not prepared.validation:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            f"needs held-out rows to watch, and none were held out ({len(prepared.train)} rows: under 50, nothing "
            "is held out by default); give a validation dataset or a validation fraction",
            "early_stopping_patience",
        )
    total = total_steps(len(prepared.train), plan)
    hooks.on_prepared(prepared, total)
    _check(plan)

    hooks.on_phase(TrainingStage.LOADING_MODEL)
    model = _load_model(plan)
    _check(plan)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = _optimizer(plan, params)
    schedule = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=0, num_training_steps=total)  # type: ignore[no-untyped-call]
    device = torch.device("cuda:0" if plan.device == "cuda" else "cpu")
    done = _Progress()
    if plan.resume is not None:
        done = _restore(plan.resume, model, optimizer, schedule, total, len(prepared.train))
    stream = batches(prepared.train, plan.micro_batch, pad_id, plan.seed, start=done.step * plan.grad_accum)
    spec = plan.spec
    validating = bool(prepared.validation)

    hooks.on_phase(TrainingStage.TRAINING)

    def evaluate(step: int) -> Evaluation:
        loss = _evaluate(model, prepared.validation, plan, pad_id, device)
        done.evals.append((step, loss))
        if loss < done.best_loss:
            done.best_loss, done.best_step, done.worse = loss, step, 0
            if spec.early_stopping_patience is not None:
                done.best_state = _lora_state(model)
        else:
            done.worse += 1
        return Evaluation(step, loss, done.best_step if spec.early_stopping_patience is not None else None)

    if validating and not done.evals:
        hooks.on_eval(evaluate(0))  # the base model: a fresh LoRA changes nothing yet
    model.train()
    try:
        steps = _Steps(model, optimizer, schedule, params, stream, total, len(prepared.train))
        _train_steps(plan, hooks, steps, done, evaluate if validating else None)
    except Cancelled:
        if plan.hand_back.is_set() and done.step > 0:  # the service stops: the next worker goes on from here
            optimizer.zero_grad(set_to_none=True)
            hooks.on_checkpoint(done.step, _checkpoint(model, optimizer, schedule, done, total, len(prepared.train)))
        raise

    _check(plan)
    hooks.on_phase(TrainingStage.SAVING)
    best_step = None
    if spec.early_stopping_patience is not None and done.best_step is not None:
        best_step = done.best_step
        if done.best_state is not None and best_step != done.step:
            from peft import set_peft_model_state_dict

            set_peft_model_state_dict(model, done.best_state)
    model.peft_config["default"].base_model_name_or_path = plan.model.model_id
    model.save_pretrained(str(out_dir), save_embedding_layers=False)  # LoRA only: no hub lookup
    return Result(steps=done.step, losses=done.losses, best_step=best_step)


@dataclass(frozen=True)
class _Steps:
    """What the step loop works on."""

    model: Any
    optimizer: Any
    schedule: Any
    params: list[torch.nn.Parameter]
    stream: Iterator[dict[str, torch.Tensor]]
    total: int
    examples: int


def _train_steps(
    plan: Plan, hooks: Hooks, on: _Steps, done: _Progress, evaluate: Callable[[int], Evaluation] | None
) -> None:
    """Steps `done.step + 1` to `on.total` (fewer when early stopping ends them), reported and checkpointed;
    `evaluate` (None: nothing held out) runs every `eval_every_steps` and at the last step."""
    spec = plan.spec
    device = torch.device("cuda:0" if plan.device == "cuda" else "cpu")
    model, optimizer, total = on.model, on.optimizer, on.total
    eval_every = spec.eval_every_steps or max(1, math.ceil(total / EVALUATIONS_PER_JOB))
    every_steps = spec.checkpoint_every_steps
    last_checkpoint = time.monotonic()

    def patience_ran_out() -> bool:
        return spec.early_stopping_patience is not None and done.worse >= spec.early_stopping_patience

    stopped_early = patience_ran_out()
    for step in range(done.step + 1, total + 1):
        if stopped_early:
            break
        step_loss = 0.0
        for _ in range(plan.grad_accum):
            _check(plan)
            batch = {k: v.to(device) for k, v in next(on.stream).items()}
            loss = model(**batch).loss
            (loss / plan.grad_accum).backward()
            step_loss += float(loss.detach()) / plan.grad_accum
        if not math.isfinite(step_loss):
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"the loss became {step_loss} at step {step}; "
                f"try a lower learning rate (was {plan.spec.learning_rate:g})",
            )
        torch.nn.utils.clip_grad_norm_(on.params, MAX_GRAD_NORM)
        optimizer.step()
        on.schedule.step()
        optimizer.zero_grad(set_to_none=True)
        done.step = step
        done.losses.append(step_loss)
        evaluation = evaluate(step) if evaluate is not None and (step % eval_every == 0 or step == total) else None
        hooks.on_step(step, step_loss, evaluation)
        stopped_early = patience_ran_out()
        due = step % every_steps == 0 if every_steps else time.monotonic() - last_checkpoint >= plan.checkpoint_every_s
        if due and step < total and not stopped_early:
            hooks.on_checkpoint(step, _checkpoint(model, optimizer, on.schedule, done, total, on.examples))
            last_checkpoint = time.monotonic()


def _evaluate(model: Any, examples: list[Example], plan: Plan, pad_id: int, device: torch.device) -> float:
    """The mean loss per trained token of `examples` (no dropout, no gradients)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in evaluation_batches(examples, plan.micro_batch * plan.grad_accum, pad_id):
            _check(plan)
            logits = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
            shifted = logits.logits[:, :-1].float()
            labels = batch["labels"][:, 1:].to(device)
            total += float(
                torch.nn.functional.cross_entropy(
                    shifted.reshape(-1, shifted.shape[-1]), labels.reshape(-1), ignore_index=IGNORE, reduction="sum"
                )
            )
            count += int((labels != IGNORE).sum())
    model.train()
    return total / max(1, count)


def _lora_state(model: Any) -> dict[str, torch.Tensor]:
    from peft import get_peft_model_state_dict

    return {k: v.detach().clone() for k, v in get_peft_model_state_dict(model).items()}


def _checkpoint(model: Any, optimizer: Any, schedule: Any, done: _Progress, total: int, examples: int) -> bytes:
    state = {
        "version": 1,
        "total": total,
        "examples": examples,
        "step": done.step,
        "losses": list(done.losses),
        "evals": [[float(s), loss] for s, loss in done.evals],
        "best_loss": done.best_loss,
        "best_step": -1 if done.best_step is None else done.best_step,
        "best_state": done.best_state or {},
        "worse": done.worse,
        "lora": _lora_state(model),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _restore(data: bytes, model: Any, optimizer: Any, schedule: Any, total: int, examples: int) -> _Progress:
    """Load a checkpoint into the model, optimizer and schedule; where the job stands. Raises SwitchboardError."""
    from peft import set_peft_model_state_dict

    try:
        state = torch.load(io.BytesIO(data), weights_only=True)
        if state["total"] != total or state["examples"] != examples:
            raise ValueError(
                f"it was made for {state['examples']} examples and {state['total']} steps, "
                f"the data now gives {examples} and {total}"
            )
        set_peft_model_state_dict(model, state["lora"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        torch.set_rng_state(state["rng"])
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        return _Progress(
            step=int(state["step"]),
            losses=[float(x) for x in state["losses"]],
            evals=[(int(s), float(loss)) for s, loss in state["evals"]],
            best_loss=float(state["best_loss"]),
            best_step=None if state["best_step"] < 0 else int(state["best_step"]),
            best_state=state["best_state"] or None,
            worse=int(state["worse"]),
        )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise SwitchboardError(
            ErrorCode.INTERNAL, f"the job's checkpoint cannot be read ({type(exc).__name__}: {first}); submit it again"
        ) from exc


def _quiet() -> None:
    """No progress bars in a service's log."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def _check(plan: Plan) -> None:
    if plan.cancel.is_set():
        raise Cancelled()


def _lora_config(plan: Plan) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=plan.spec.lora_r,
        lora_alpha=plan.spec.lora_alpha,
        lora_dropout=0.05,
        target_modules=LORA_TARGETS,
        bias="none",
        task_type="CAUSAL_LM",
    )


def _load_model(plan: Plan) -> Any:
    """The base model wrapped with a fresh LoRA: float32 on CPU, 4-bit with k-bit preparation on CUDA."""
    from peft import get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM

    if plan.device == "cuda":
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        base = AutoModelForCausalLM.from_pretrained(
            plan.model.location,
            token=plan.hf_token,
            device_map={"": 0},
            quantization_config=BitsAndBytesConfig(  # type: ignore[no-untyped-call]
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_compute_dtype=compute,
                bnb_4bit_use_double_quant=True,
            ),
        )
        base = prepare_model_for_kbit_training(base, use_gradient_checkpointing=True)  # type: ignore[no-untyped-call]
    else:
        base = AutoModelForCausalLM.from_pretrained(plan.model.location, token=plan.hf_token, dtype=torch.float32)
    base.config.use_cache = False
    with warnings.catch_warnings():  # peft asks for a property transformers 5 renamed
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(base, _lora_config(plan))


def _optimizer(plan: Plan, params: list[torch.nn.Parameter]) -> Any:
    if plan.device == "cuda":
        try:
            import bitsandbytes
        except ImportError as exc:
            raise SwitchboardError(
                ErrorCode.UNAVAILABLE, "QLoRA needs bitsandbytes on CUDA: pip install '.[cuda]'"
            ) from exc
        return bitsandbytes.optim.PagedAdamW8bit(params, lr=plan.spec.learning_rate)
    return torch.optim.AdamW(params, lr=plan.spec.learning_rate)
