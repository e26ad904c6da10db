"""One fine-tune, blocking (run it in a thread): LoRA in float32 on CPU, QLoRA on CUDA as in the seed.

A plain torch loop, so every optimizer step is reported as it happens and a cancel lands within one
micro-batch. On CUDA the base model is loaded in 4-bit (nf4), prepared for k-bit training with gradient
checkpointing, and trained with `paged_adamw_8bit`, batch 1 and 8 accumulated micro-batches.
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from messages import ErrorCode, FineTuneSpec, SwitchboardError, TrainingStage
from services.runtime import ModelSource

from .data import batches, build_examples, load_rows, micro_batches_per_epoch
from .sources import DatasetSource

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
CUDA_BATCH_SIZE = 1
CUDA_GRAD_ACCUM = 8
MAX_GRAD_NORM = 1.0


class Cancelled(Exception):
    """The job's cancel event was set; the partial adapter is discarded."""


class Hooks(Protocol):
    """How the trainer reports; called from the training thread."""

    def on_phase(self, stage: TrainingStage) -> None: ...

    def on_total(self, total_steps: int, examples: int) -> None: ...

    def on_step(self, step: int, loss: float) -> None: ...


@dataclass(frozen=True)
class Plan:
    spec: FineTuneSpec
    source: DatasetSource
    model: ModelSource
    device: str  # "cpu" or "cuda"
    max_length: int
    batch_size: int  # on CPU; CUDA uses the seed's 1 x 8
    seed: int
    hf_token: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

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

    @property
    def final_loss(self) -> float | None:
        return self.losses[-1] if self.losses else None


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


def train(plan: Plan, hooks: Hooks, out_dir: Path) -> Result:
    """Train, save the adapter's files into `out_dir`, return the losses. Raises `Cancelled` or SwitchboardError."""
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    _quiet()
    torch.manual_seed(plan.seed)
    hooks.on_phase(TrainingStage.LOADING_DATA)
    rows = load_rows(plan.source, plan.spec.num_samples, plan.hf_token)
    _check(plan)
    tokenizer: Any = AutoTokenizer.from_pretrained(plan.model.location, token=plan.hf_token)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    examples = build_examples(rows, tokenizer, plan.max_length)
    total = total_steps(len(examples), plan)
    hooks.on_total(total, len(examples))
    _check(plan)

    hooks.on_phase(TrainingStage.LOADING_MODEL)
    model = _load_model(plan)
    _check(plan)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = _optimizer(plan, params)
    schedule = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=0, num_training_steps=total)  # type: ignore[no-untyped-call]
    stream = batches(examples, plan.micro_batch, int(pad_id or 0), plan.seed)
    device = torch.device("cuda:0" if plan.device == "cuda" else "cpu")

    hooks.on_phase(TrainingStage.TRAINING)
    model.train()
    losses: list[float] = []
    for step in range(1, total + 1):
        step_loss = 0.0
        for _ in range(plan.grad_accum):
            _check(plan)
            batch = {k: v.to(device) for k, v in next(stream).items()}
            loss = model(**batch).loss
            (loss / plan.grad_accum).backward()
            step_loss += float(loss.detach()) / plan.grad_accum
        if not math.isfinite(step_loss):
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"the loss became {step_loss} at step {step}; "
                f"try a lower learning rate (was {plan.spec.learning_rate:g})",
            )
        torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(step_loss)
        hooks.on_step(step, step_loss)

    _check(plan)
    hooks.on_phase(TrainingStage.SAVING)
    model.peft_config["default"].base_model_name_or_path = plan.model.model_id
    model.save_pretrained(str(out_dir), save_embedding_layers=False)  # LoRA only: no hub lookup
    return Result(steps=len(losses), losses=losses)


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
