"""docs/wire-contract.md stays true to `messages/`: every typed JSON example decodes with its type and keeps
every field it shows, every name in `messages/subjects.py` is documented, and the `nats` CLI payloads in the
README and the docs decode with the type their subject takes."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import msgspec
import pytest

import messages
from messages import SwitchboardError, subjects
from tests.conftest import REPO

ROOT = REPO
WIRE_CONTRACT = ROOT / "docs" / "wire-contract.md"
CLI_DOCS = (ROOT / "README.md", ROOT / "docs" / "wire-contract.md", ROOT / "docs" / "architecture.md")

# ```json TypeName ... ```: an example the test decodes as `TypeName`
_EXAMPLE = re.compile(r"^```json[ \t]+(?P<type>\w+)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
# names in subjects.py that are NATS names: subjects and their prefixes, streams, consumers, buckets, keys
_NAME_SUFFIXES = ("_PREFIX", "_STREAM", "_CONSUMER", "_BUCKET", "_KEY", "_QUEUE")
# the examples every reader needs; a doc without them is incomplete whatever else it has
REQUIRED_EXAMPLES = {"GenerateRequest", "Accept", "TokenChunk", "Cancel", "ErrorMessage", "Progress", "FineTuneSpec"}

# `nats req|request|pub SUBJECT '{...}'`: the request type each subject takes (by prefix for per-id subjects)
_CLI_PAYLOAD = re.compile(r"\bnats (?:req|request|pub)\b[^'\n]*?\s(?P<subject>[\w.$-]+) '(?P<body>[^']*)'")
CLI_TYPES: dict[str, type[Any]] = {
    subjects.INFERENCE_GENERATE: messages.GenerateRequest,
    subjects.INFERENCE_INFO: messages.InfoRequest,
    subjects.INFERENCE_GPU_RELEASE: messages.GpuHandoff,
    subjects.INFERENCE_GPU_RECLAIM: messages.GpuHandoff,
    subjects.SEARCH_QUERY: messages.SearchQuery,
    subjects.ADAPTERS_LIST: messages.ListAdapters,
    subjects.ADAPTERS_ACTIVATE: messages.ActivateAdapter,
    subjects.ADAPTERS_DEACTIVATE: messages.DeactivateAdapter,
    subjects.ADAPTERS_DELETE: messages.DeleteAdapter,
    subjects.ADAPTERS_REGISTER: messages.RegisterAdapter,
    subjects.TRAINING_SUBMIT: messages.FineTuneSpec,
    subjects.TRAINING_JOBS: messages.ListJobs,
    subjects.TRAINING_JOB: messages.GetJob,
    subjects.TRAINING_FORGET: messages.ForgetJob,
    subjects.TRAIN_JOBS: messages.FineTuneSpec,
}
CLI_PREFIX_TYPES: dict[str, type[Any]] = {
    subjects.CANCEL_PREFIX: messages.Cancel,
    subjects.TRAIN_CANCEL_PREFIX: messages.CancelJob,
}


def _examples() -> list[Any]:
    text = WIRE_CONTRACT.read_text()
    found = []
    for m in _EXAMPLE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        found.append(pytest.param(m["type"], line, m["body"], id=f"{m['type']}-line{line}"))
    return found


def _message_type(name: str) -> type[Any]:
    """`messages.<name>`, else the first submodule of `messages` that defines it."""
    found = getattr(messages, name, None)
    if found is None:
        for module in pkgutil.iter_modules(messages.__path__):
            found = getattr(importlib.import_module(f"messages.{module.name}"), name, None)
            if found is not None:
                break
    if not isinstance(found, type) or not issubclass(found, msgspec.Struct):
        pytest.fail(f"`json {name}`: no msgspec type named {name} in messages/")
    return found


_ABSENT = object()


def _dropped(shown: Any, kept: Any, path: str = "$") -> list[str]:
    """Where `kept` (the example decoded and encoded again) lacks or changes what the example `shown` has.

    msgspec ignores a field its type does not have, so decoding alone would accept an example that shows one.
    """
    if isinstance(shown, dict):
        if not isinstance(kept, dict):
            return [path]
        return [p for key, value in shown.items() for p in _dropped(value, kept.get(key, _ABSENT), f"{path}.{key}")]
    if isinstance(shown, list):
        if not isinstance(kept, list) or len(kept) != len(shown):
            return [path]
        return [p for i, (a, b) in enumerate(zip(shown, kept, strict=True)) for p in _dropped(a, b, f"{path}[{i}]")]
    if kept is _ABSENT or shown != kept or isinstance(shown, bool) != isinstance(kept, bool):
        return [path]
    return []


def _names() -> dict[str, str]:
    """The module-level names of `messages/subjects.py` that are NATS names, by constant."""
    return {
        constant: value
        for constant, value in vars(subjects).items()
        if constant.isupper() and isinstance(value, str) and ("." in value or constant.endswith(_NAME_SUFFIXES))
    }


def test_the_doc_has_the_examples_every_reader_needs() -> None:
    shown = {param.values[0] for param in _examples()}
    assert shown >= REQUIRED_EXAMPLES, f"no example of {sorted(REQUIRED_EXAMPLES - shown)} in {WIRE_CONTRACT}"


@pytest.mark.parametrize(("name", "line", "body"), _examples())
def test_every_example_decodes_with_its_type(name: str, line: int, body: str) -> None:
    kind = _message_type(name)
    try:
        decoded = messages.decode(body.encode(), kind)
    except SwitchboardError as exc:
        pytest.fail(f"wire-contract.md line {line}: `json {name}` does not decode: {exc}")
    dropped = _dropped(msgspec.json.decode(body.encode()), msgspec.json.decode(messages.encode(decoded)))
    assert not dropped, (
        f"wire-contract.md line {line}: `json {name}` shows {dropped}, which {name} does not keep "
        "(a field it does not have, or a value it changes)"
    )


def test_every_subject_and_name_is_documented() -> None:
    text = WIRE_CONTRACT.read_text()
    missing = {
        constant: value
        for constant, value in _names().items()
        # in backticks, alone or followed by `.`: `svc.training.job` is not found in `svc.training.jobs`
        if not re.search(rf"`{re.escape(value)}(?:\.[^`]*)?`", text)
    }
    assert not missing, f"documented nowhere in {WIRE_CONTRACT.name}: {missing}"


def test_the_names_found_are_the_subjects() -> None:
    """The selection of names is not empty by accident (a rename of the module's conventions)."""
    names = set(_names().values())
    assert names >= {subjects.INFERENCE_GENERATE, subjects.TOKENS_PREFIX, subjects.TRAIN_JOBS, subjects.ACTIVE_KEY}


def _cli_payloads() -> list[Any]:
    """Every `nats req`/`nats pub` with a non-empty payload (an empty one is read as `{}` or ignored)."""
    found = []
    for path in CLI_DOCS:
        for m in _CLI_PAYLOAD.finditer(path.read_text()):
            if m["body"].strip():
                found.append(pytest.param(path.name, m["subject"], m["body"], id=f"{path.name}-{m['subject']}"))
    return found


@pytest.mark.parametrize(("doc", "subject", "body"), _cli_payloads())
def test_every_nats_cli_payload_decodes(doc: str, subject: str, body: str) -> None:
    kind = CLI_TYPES.get(subject) or next(
        (kind for prefix, kind in CLI_PREFIX_TYPES.items() if subject.startswith(f"{prefix}.")), None
    )
    assert kind is not None, f"{doc}: `nats ... {subject}`: add the subject's request type to CLI_TYPES"
    try:
        messages.decode(body.encode(), kind)
    except SwitchboardError as exc:
        pytest.fail(f"{doc}: the payload for {subject} does not decode as {kind.__name__}: {exc}")
