"""Messages of the training service: a fine-tune job's spec, its record and progress, cancel, GPU handoff.

Numbers are checked by msgspec constraints when a message is decoded: zero, negative and absurdly large
values are refused with the field's path. NaN cannot reach a spec at all: JSON has no NaN (msgspec
refuses the `NaN` token as malformed JSON), and `msgspec.convert` of a float NaN fails every `gt`/`le`
constraint. Losses are checked for being finite before they are recorded (a NaN would encode as null).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

from .errors import ErrorMessage
from .fields import AdapterName, RequestId

BUNDLED_DATASET = "bundled"  # the instruction set shipped in services/training/data
MAX_SAMPLES = 100_000
MAX_EPOCHS = 100.0
MAX_LORA_R = 256
MAX_LORA_ALPHA = 1024
MAX_STEPS_LIMIT = 1_000_000
MAX_VALIDATION_FRACTION = 0.5


class FineTuneSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One LoRA fine-tune: train `adapter_name` on `dataset` (published on `train.jobs`).

    `dataset` is an uploaded dataset's name, "bundled" (the shipped set), a local .json/.jsonl file in
    the dataset folder, or a Hugging Face dataset id (where the hub is reachable); any of the four formats
    of `services.training.formats` (chat messages, ShareGPT, prompt/completion, Alpaca).
    """

    job_id: RequestId
    adapter_name: AdapterName
    dataset: Annotated[str, Meta(min_length=1, max_length=1024)] = BUNDLED_DATASET
    num_samples: Annotated[int, Meta(ge=1, le=MAX_SAMPLES)] | None = None  # None: every row
    num_epochs: Annotated[float, Meta(gt=0.0, le=MAX_EPOCHS)] = 1.0
    learning_rate: Annotated[float, Meta(gt=0.0, le=1.0)] = 2e-4
    lora_r: Annotated[int, Meta(ge=1, le=MAX_LORA_R)] = 8
    lora_alpha: Annotated[int, Meta(ge=1, le=MAX_LORA_ALPHA)] = 16
    max_steps: Annotated[int, Meta(ge=1, le=MAX_STEPS_LIMIT)] | None = None  # an optional cap on optimizer steps
    # held-out evaluation: a dataset of its own, or a fraction of `dataset` (None: 0.1 from 50 rows on, else 0)
    validation_dataset: Annotated[str, Meta(min_length=1, max_length=1024)] | None = None
    validation_fraction: Annotated[float, Meta(ge=0.0, le=MAX_VALIDATION_FRACTION)] | None = None
    eval_every_steps: Annotated[int, Meta(ge=1, le=MAX_STEPS_LIMIT)] | None = None  # None: about 10 evaluations
    early_stopping_patience: Annotated[int, Meta(ge=1, le=1000)] | None = None  # evaluations without a better loss
    checkpoint_every_steps: Annotated[int, Meta(ge=1, le=MAX_STEPS_LIMIT)] | None = None  # None: every ~2 min


class EvalPoint(
    msgspec.Struct,
    frozen=True,
):
    """The held-out loss at a step (step 0: the base model, before any training)."""

    step: int
    loss: float


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


class TrainingStage(StrEnum):
    """What a running job is doing, in the order it does it (None before it starts and once it ended)."""

    LOADING_DATA = "loading_data"  # reading and tokenizing the dataset
    LOADING_MODEL = "loading_model"  # the base model with a fresh LoRA
    TRAINING = "training"  # optimizer steps
    SAVING = "saving"  # writing, uploading and registering the adapter


class JobRecord(msgspec.Struct, frozen=True, tag="job", tag_field="type"):
    """A job as KV `training` keeps it (key `job.<job_id>`); also the answer to submit and job lookups.

    Timestamps are ISO-8601 UTC with microseconds (`created` orders the history). `queue_position` is
    how many jobs are ahead of a queued one (the running job counts), None once it is no longer queued.
    """

    spec: FineTuneSpec
    state: JobState
    created: str
    step: int = 0
    total_steps: int | None = None  # known once the data is loaded
    loss_history: list[float] = msgspec.field(default_factory=list)  # one finite loss per step
    error: str | None = None
    adapter: str | None = None  # the registered adapter's name, once succeeded
    started: str | None = None
    finished: str | None = None
    worker_id: str | None = None  # the training worker that runs or ran it
    host: str | None = None  # that worker's host (whose inference service lent it the GPU)
    heartbeat: str | None = None  # refreshed while running; a stale one means the worker died
    device: str | None = None  # "cpu" or "cuda"
    queue_position: int | None = None
    ack_subject: str | None = None  # JetStream's ack subject of the job message, so a successor can end it
    stage: TrainingStage | None = None  # while running; None in records written before stages existed
    eval_history: list[EvalPoint] = msgspec.field(default_factory=list)  # step 0 (base model), then each evaluation
    best_step: int | None = None  # with early stopping: the step whose adapter is kept (lowest held-out loss)
    data_format: str | None = None  # chat, sharegpt, prompt_completion or alpaca, once the data is loaded
    train_rows: int | None = None
    validation_rows: int | None = None
    truncated_rows: int = 0  # cut to TRAIN_MAX_LENGTH tokens
    dropped_rows: int = 0  # left out: too long (TRAIN_OVERLONG=drop) or nothing left to learn once cut
    held_out_prompts: list[str] = msgspec.field(default_factory=list)  # up to 8 held-out questions, for Compare
    checkpoint_step: int | None = None  # the step of the last checkpoint in Object Store `training-checkpoints`
    resumed_from_step: int | None = None  # set when a worker took the job up again from a checkpoint
    resumes: int = 0  # how many times the job was taken up again after its worker died


class Progress(msgspec.Struct, frozen=True):
    """Published on `train.progress.<job_id>` at every step and every change of state."""

    job_id: str
    state: JobState
    step: int
    total_steps: int | None
    loss: float | None = None
    queue_position: int | None = None
    error: str | None = None
    adapter: str | None = None
    stage: TrainingStage | None = None  # while running: loading_data, loading_model, training, saving
    eval_loss: float | None = None  # set on the message of a step where an evaluation ran
    best_step: int | None = None

    @classmethod
    def of(cls, record: JobRecord, loss: float | None = None, eval_loss: float | None = None) -> Progress:
        """What `train.progress.<job_id>` carries for `record`: the last loss unless `loss` is given, and
        `eval_loss` only on the message of a step where an evaluation ran."""
        if loss is None and record.loss_history:
            loss = record.loss_history[-1]
        return cls(
            job_id=record.spec.job_id,
            state=record.state,
            step=record.step,
            total_steps=record.total_steps,
            loss=loss,
            queue_position=record.queue_position,
            error=record.error,
            adapter=record.adapter,
            stage=record.stage,
            eval_loss=eval_loss,
            best_step=record.best_step,
        )


class CancelJob(msgspec.Struct, frozen=True):
    """Stop the job named by the subject `train.cancel.<job_id>` (an empty body works too)."""

    job_id: str
    reason: str = "cancelled by user"


class GetJob(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One job's record (`svc.training.job`)."""

    job_id: RequestId


class ForgetJob(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Drop a finished job's record from the history (`svc.training.forget`); its adapter stays."""

    job_id: RequestId


class ListJobs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every job's record, newest first (`svc.training.jobs`; an empty body works too)."""

    request_id: RequestId | None = None  # optional, for logs


class JobList(msgspec.Struct, frozen=True, tag="jobs", tag_field="type"):
    """The answer to `ListJobs`."""

    jobs: list[JobRecord]


class GpuHandoff(msgspec.Struct, frozen=True):
    """Asks the inference service on `host` to release the GPU (before a QLoRA job) or to reclaim it."""

    host: str
    job_id: str


JobReply = JobRecord | ErrorMessage
JobListReply = JobList | ErrorMessage
