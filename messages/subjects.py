"""Every NATS subject, stream, consumer and bucket name Switchboard uses, in one place."""

from __future__ import annotations

# -- inference -------------------------------------------------------------------------------
INFERENCE_SERVICE = "inference"
INFERENCE_QUEUE = "inference"
INFERENCE_GENERATE = "svc.inference.generate"
INFERENCE_INFO = "svc.inference.info"
INFERENCE_FOLLOW = "svc.inference.follow"  # every worker: have you applied revision <n> of KV `adapters` `active`?

TOKENS_STREAM = "TOKENS"
TOKENS_PREFIX = "infer.tokens"
TOKENS_WILDCARD = f"{TOKENS_PREFIX}.>"
CANCEL_PREFIX = "infer.cancel"
CANCEL_WILDCARD = f"{CANCEL_PREFIX}.*"
PING_PREFIX = "infer.ping"  # `infer.ping.<worker_id>`: is this worker alive, and does it hold request <body>?
PING_ACTIVE = b"active"  # the reply when it holds the request
PING_UNKNOWN = b"unknown"  # the reply when it does not

# -- gateway ---------------------------------------------------------------------------------
GATEWAY_SERVICE = "gateway"
ANSWERS_BUCKET = "answers"  # KV: `answer.<request_id>` holds who asked for it (AnswerOwner)
ANSWER_KEY_PREFIX = "answer"
REQUESTER_PING_PREFIX = "gateway.ping"  # `gateway.ping.<instance>`: does this gateway still want request <body>?

# -- metrics: every service instance answers (no queue group) with its Prometheus figures --------
METRICS_SCRAPE = "metrics.scrape"

# -- search ----------------------------------------------------------------------------------
SEARCH_SERVICE = "search"
SEARCH_QUEUE = "search"
SEARCH_QUERY = "svc.search.query"

# -- training and adapters -------------------------------------------------------------------
TRAIN_JOBS_STREAM = "TRAIN_JOBS"
TRAIN_JOBS = "train.jobs"
TRAIN_PROGRESS_PREFIX = "train.progress"
TRAIN_CANCEL_PREFIX = "train.cancel"
TRAINING_BUCKET = "training"
ADAPTERS_BUCKET = "adapters"
ADAPTER_FILES_BUCKET = "adapter-files"
ADAPTER_KEY_PREFIX = "adapter"  # KV `adapters`: `adapter.<name>` holds one adapter's metadata
ACTIVE_KEY = "active"  # KV `adapters`: the default adapter's name, empty for the base model

ADAPTERS_SERVICE = "adapters"
ADAPTERS_QUEUE = "adapters"
ADAPTERS_LIST = "svc.adapters.list"
ADAPTERS_ACTIVATE = "svc.adapters.activate"
ADAPTERS_DEACTIVATE = "svc.adapters.deactivate"
ADAPTERS_DELETE = "svc.adapters.delete"
ADAPTERS_REGISTER = "svc.adapters.register"

TRAINING_SERVICE = "training"
TRAINING_QUEUE = "training"
TRAINING_SUBMIT = "svc.training.submit"
TRAINING_JOBS = "svc.training.jobs"  # every job record, newest first
TRAINING_JOB = "svc.training.job"  # one job record
TRAINING_FORGET = "svc.training.forget"  # drop a finished job's record from the history
TRAIN_CONSUMER = "trainer"  # the one durable pull consumer of stream TRAIN_JOBS
TRAIN_PROGRESS_WILDCARD = f"{TRAIN_PROGRESS_PREFIX}.*"
TRAIN_CANCEL_WILDCARD = f"{TRAIN_CANCEL_PREFIX}.*"
JOB_KEY_PREFIX = "job"  # KV `training`: `job.<job_id>` holds one job's record

# datasets: uploaded by the gateway into `dataset-uploads` (kept an hour at most), checked and stored by training
DATASETS_BUCKET = "datasets"  # KV (`dataset.<name>`: its info) and Object Store (`<name>`: the file as uploaded)
DATASET_UPLOADS_BUCKET = "dataset-uploads"  # Object Store: uploads waiting to be checked
CHECKPOINTS_BUCKET = "training-checkpoints"  # Object Store: `<job_id>`, a running job's last checkpoint
DATASET_KEY_PREFIX = "dataset"
DATASETS_ADD = "svc.training.datasets.add"  # check an upload and store it as a dataset
DATASETS_LIST = "svc.training.datasets.list"
DATASETS_GET = "svc.training.datasets.get"
DATASETS_DELETE = "svc.training.datasets.delete"

# single-GPU handoff: training asks the inference service on its host to lend the GPU, then gives it back
INFERENCE_GPU_RELEASE = "svc.inference.gpu.release"
INFERENCE_GPU_RECLAIM = "svc.inference.gpu.reclaim"


def inbox_prefix(user: str) -> str:
    """The inbox prefix a service connects with under NATS user `user` (nats-py `inbox_prefix`): replies to
    its requests come there, and only that user may subscribe to it."""
    return f"_INBOX_{user}"


def tokens_subject(request_id: str) -> str:
    """The subject that carries one generation's token chunks."""
    return f"{TOKENS_PREFIX}.{request_id}"


def ping_subject(worker_id: str) -> str:
    """The subject one inference worker answers liveness probes on (the gateway asks while a stream is silent)."""
    return f"{PING_PREFIX}.{worker_id}"


def requester_ping_subject(instance: str) -> str:
    """The subject one gateway answers on whether it still wants a generation (workers ask while they run it);
    the reply is `PING_ACTIVE` or `PING_UNKNOWN`, as for `ping_subject`."""
    return f"{REQUESTER_PING_PREFIX}.{instance}"


def cancel_subject(request_id: str) -> str:
    """The subject that stops one generation."""
    return f"{CANCEL_PREFIX}.{request_id}"


def request_id_of(subject: str) -> str:
    """The request id at the end of a per-request subject (`infer.tokens.<id>`, `infer.cancel.<id>`)."""
    return subject.rsplit(".", 1)[-1]


def train_progress_subject(job_id: str) -> str:
    return f"{TRAIN_PROGRESS_PREFIX}.{job_id}"


def train_cancel_subject(job_id: str) -> str:
    return f"{TRAIN_CANCEL_PREFIX}.{job_id}"


def dataset_key(name: str) -> str:
    """The key in KV `datasets` that holds the info of dataset `name`."""
    return f"{DATASET_KEY_PREFIX}.{name}"


def adapter_key(name: str) -> str:
    """The key in KV `adapters` that holds the metadata of adapter `name`."""
    return f"{ADAPTER_KEY_PREFIX}.{name}"


def answer_key(request_id: str) -> str:
    """The key in KV `answers` that holds who asked for answer `request_id`."""
    return f"{ANSWER_KEY_PREFIX}.{request_id}"
