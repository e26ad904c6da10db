"""The training actor: LoRA / QLoRA fine-tunes from the JetStream work queue TRAIN_JOBS, one at a time."""

from .config import TrainingConfig
from .records import JobStore, job_key
from .service import TrainingActor
from .sources import BUNDLED_FILE, DatasetSource, SourceKind, resolve_dataset
from .submit import submit_job

__all__ = [
    "BUNDLED_FILE",
    "DatasetSource",
    "JobStore",
    "SourceKind",
    "TrainingActor",
    "TrainingConfig",
    "job_key",
    "resolve_dataset",
    "submit_job",
]
