"""Which `startFineTune` argument a refused submission is about, so a form can show the error next to it."""

from __future__ import annotations

import re

from messages import ErrorCode

# FineTuneSpec's fields (as msgspec names them in `$.field` paths) -> the GraphQL argument that sets them
ARGUMENT_OF_FIELD: dict[str, str | None] = {
    "adapter_name": "adapterName",
    "dataset": "datasetName",
    "num_samples": "numSamples",
    "num_epochs": "numEpochs",
    "learning_rate": "learningRate",
    "lora_r": "loraR",
    "lora_alpha": "loraAlpha",
    "max_steps": "maxSteps",
    "job_id": None,  # the gateway makes the job id; no argument of the caller's is wrong
}

# msgspec ends its messages with where: "Expected `float` > 0.0 - at `$.learning_rate`"
_PATH = re.compile(r" - at `\$\.([A-Za-z_][A-Za-z0-9_]*)[^`]*`$")
_DATASET = re.compile(r"\bdataset\b", re.IGNORECASE)
# failures of the services, not of an argument: retrying the same arguments later may work
_TRANSIENT = frozenset({ErrorCode.BUSY, ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT, ErrorCode.INTERNAL})


def error_field(code: ErrorCode, message: str) -> str | None:
    """The GraphQL argument (`adapterName`, `learningRate`, ...) that `message` is about, or None.

    Checked in order: an invalid adapter name; a msgspec path `$.snake_case` ending the message; a
    conflict (the name is taken or already being trained); a missing or unusable dataset.
    """
    if message.startswith("invalid adapter name"):
        return "adapterName"
    path = _PATH.search(message)
    if path is not None:
        return ARGUMENT_OF_FIELD.get(path.group(1))
    if code is ErrorCode.CONFLICT:
        return None if "a job with id" in message else "adapterName"
    if code in _TRANSIENT:
        return None
    if code is ErrorCode.NOT_FOUND or _DATASET.search(message):
        return "datasetName"
    return None
