"""GraphQL types of fine-tuning: a job and its loss curve, the latest job's status, a progress event, and the
outcome of the job mutations."""

from __future__ import annotations

import strawberry

from messages import EvalPoint as EvalPointMessage
from messages import JobRecord, Progress

from .types import from_message


@strawberry.type(description="The latest fine-tune (the running one, else the most recent)")
class FineTuneStatus:
    running: bool
    step: int
    total_steps: int
    loss: float | None
    error: str | None
    completed_adapter: str | None
    job_id: str | None = None
    state: str | None = None
    queued: int = 0


STAGE_DESCRIPTION = (
    "What a running job is doing: loading_data, loading_model, training or saving; null before it starts, "
    "once it ended, and for jobs recorded before stages existed"
)


@strawberry.type(description="One fine-tune job with its loss curve")
class FineTuneJob:
    job_id: str
    adapter_name: str
    dataset: str
    state: str
    step: int
    total_steps: int | None
    loss_history: list[float]
    final_loss: float | None
    error: str | None
    adapter: str | None
    queue_position: int | None
    created: str
    started: str | None
    finished: str | None
    device: str | None
    num_samples: int | None
    num_epochs: float
    learning_rate: float
    lora_r: int
    lora_alpha: int
    max_steps: int | None = strawberry.field(default=None, description="The cap on optimizer steps it was given")
    stage: str | None = strawberry.field(default=None, description=STAGE_DESCRIPTION)
    validation_dataset: str | None = None
    validation_fraction: float | None = None
    eval_every_steps: int | None = None
    early_stopping_patience: int | None = None
    checkpoint_every_steps: int | None = None
    eval_history: list[EvalPoint] = strawberry.field(
        default_factory=list, description="The held-out loss: step 0 (the base model), then each evaluation"
    )
    best_step: int | None = strawberry.field(
        default=None, description="With early stopping: the step whose adapter was kept (lowest held-out loss)"
    )
    data_format: str | None = strawberry.field(default=None, description="chat, sharegpt, prompt_completion, alpaca")
    train_rows: int | None = None
    validation_rows: int | None = None
    truncated_rows: int = strawberry.field(default=0, description="Rows cut to TRAIN_MAX_LENGTH tokens")
    dropped_rows: int = strawberry.field(
        default=0, description="Rows left out: too long (TRAIN_OVERLONG=drop), or nothing left to learn once cut"
    )
    held_out_prompts: list[str] = strawberry.field(
        default_factory=list, description="Up to 8 questions of the held-out rows, to compare answers on"
    )
    checkpoint_step: int | None = strawberry.field(default=None, description="The step of the last checkpoint")
    resumed_from_step: int | None = strawberry.field(
        default=None, description="Set when the job was taken up again from a checkpoint after its worker died"
    )
    resumes: int = 0

    @classmethod
    def of(cls, record: JobRecord) -> FineTuneJob:
        return from_message(
            cls,
            record,
            record.spec,
            loss_history=list(record.loss_history),
            final_loss=record.loss_history[-1] if record.loss_history else None,
            eval_history=EvalPoint.all_of(record.eval_history),
            held_out_prompts=list(record.held_out_prompts),
        )


@strawberry.type(description="The held-out loss at a step (step 0: the base model)")
class EvalPoint:
    step: int
    loss: float

    @classmethod
    def all_of(cls, points: list[EvalPointMessage]) -> list[EvalPoint]:
        return [cls(step=p.step, loss=p.loss) for p in points]


@strawberry.type(description="A step of a fine-tune, or a change of its state")
class FineTuneProgress:
    job_id: str
    state: str
    step: int
    total_steps: int | None
    loss: float | None
    queue_position: int | None
    error: str | None
    adapter: str | None
    stage: str | None = strawberry.field(default=None, description=STAGE_DESCRIPTION)
    eval_loss: float | None = strawberry.field(default=None, description="Set on the steps where an evaluation ran")
    best_step: int | None = None

    @classmethod
    def of(cls, progress: Progress) -> FineTuneProgress:
        return from_message(cls, progress)


@strawberry.type(description="The outcome of startFineTune / cancelFineTune")
class FineTuneResult:
    ok: bool
    error: str | None
    job_id: str | None = None
    queue_position: int | None = None
    error_code: str | None = None
    error_field: str | None = strawberry.field(
        default=None,
        description="startFineTune: the argument the error is about (adapterName, datasetName, numSamples, "
        "numEpochs, learningRate, loraR, loraAlpha, maxSteps, validationDataset, validationFraction, evalEverySteps, "
        "earlyStoppingPatience, checkpointEverySteps), null when it is about none",
    )
