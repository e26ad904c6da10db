"""NATS users with least privilege: one per service, each allowed only the subjects it needs, plus an operator.

`permissions()` lists, per service, what it may publish and subscribe to: its own request subjects
(`svc.<name>.>`, in its queue group), the per-request subjects it writes or reads, the JetStream API
subjects of its own streams and buckets only (`$JS.API.*.<stream>`, `$KV.<bucket>.>`, `$O.<bucket>.>`),
NATS micro's `$SRV.>`, and its own inbox prefix (`_INBOX_<user>.>`, set with nats-py's `inbox_prefix`,
so no service reads another's replies). Replies to requests it received are allowed by
`allow_responses`, not by a publish right on every inbox. The `operator` user may do everything (the
`nats` CLI).

`python -m services.runtime.nats_auth OUT_DIR [--gateway-key]` writes, once (existing passwords are kept):
`OUT_DIR/<user>.password` (mode 0600) for every user and `OUT_DIR/auth.conf`, an `authorization` block
for nats-server (`include auth.conf` from the server's config); `--gateway-key` adds a gateway admin API
key (`gateway-admin.key`, docker-compose.yml uses it). Subject names come from
`messages.subjects`; the rules of the JetStream API subjects from the NATS docs ("JetStream wire API").
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from messages import subjects

OPERATOR = "operator"


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def _stream_reader(stream: str) -> list[str]:
    """Read a stream: its info, messages by sequence, consumers of its own (ordered or pull)."""
    api = "$JS.API"
    return [
        f"{api}.STREAM.INFO.{stream}",
        f"{api}.STREAM.MSG.GET.{stream}",
        f"{api}.DIRECT.GET.{stream}",
        f"{api}.DIRECT.GET.{stream}.>",
        f"{api}.CONSUMER.CREATE.{stream}",
        f"{api}.CONSUMER.CREATE.{stream}.>",
        f"{api}.CONSUMER.DELETE.{stream}.>",
        f"{api}.CONSUMER.INFO.{stream}.>",
        f"{api}.CONSUMER.MSG.NEXT.{stream}.>",
        f"$JS.FC.{stream}.>",  # an ordered consumer's flow-control replies
    ]


def _stream_owner(stream: str) -> list[str]:
    """Create, update and purge a stream, and everything a reader may do."""
    api = "$JS.API"
    return [
        *_stream_reader(stream),
        f"{api}.STREAM.CREATE.{stream}",
        f"{api}.STREAM.UPDATE.{stream}",
        f"{api}.STREAM.PURGE.{stream}",
        f"{api}.CONSUMER.DURABLE.CREATE.{stream}.>",
    ]


def _kv(bucket: str, write: bool) -> list[str]:
    stream = f"KV_{bucket}"
    return [*(_stream_owner(stream) if write else _stream_reader(stream)), *([f"$KV.{bucket}.>"] if write else [])]


def _objects(bucket: str, write: bool) -> list[str]:
    stream = f"OBJ_{bucket}"
    return [*(_stream_owner(stream) if write else _stream_reader(stream)), *([f"$O.{bucket}.>"] if write else [])]


def _common(user: str) -> tuple[list[str], list[str]]:
    """Every service: JetStream account info and stream names (nats-py looks a stream up by subject before a
    push subscription, e.g. reading an object), NATS micro (`$SRV`), metrics scrapes, its own inbox."""
    subscribe = ["$SRV.>", subjects.METRICS_SCRAPE, f"{subjects.inbox_prefix(user)}.>"]
    return ["$JS.API.INFO", "$JS.API.STREAM.NAMES"], subscribe


def permissions() -> dict[str, Permissions]:
    """Each service's publish and subscribe allow-lists (everything else is denied)."""
    tokens = subjects.TOKENS_STREAM
    rules: dict[str, tuple[list[str], list[str]]] = {
        "gateway": (
            [
                "svc.inference.generate",
                "svc.inference.info",
                subjects.SEARCH_QUERY,
                "svc.adapters.>",
                "svc.training.>",
                f"{subjects.CANCEL_PREFIX}.*",
                f"{subjects.PING_PREFIX}.*",
                f"{subjects.TRAIN_CANCEL_PREFIX}.*",
                subjects.METRICS_SCRAPE,
                *_stream_reader(tokens),  # chunks that did not arrive are read back from TOKENS
                *_objects(subjects.DATASET_UPLOADS_BUCKET, write=True),  # an upload, for training to check
                *_kv(subjects.ANSWERS_BUCKET, write=True),  # who asked for each request id (answer_owners.py)
            ],
            [
                f"{subjects.TOKENS_PREFIX}.*",
                f"{subjects.TRAIN_PROGRESS_PREFIX}.*",
                f"{subjects.REQUESTER_PING_PREFIX}.*",
            ],
        ),
        "inference": (
            [
                f"{subjects.TOKENS_PREFIX}.*",
                f"{subjects.REQUESTER_PING_PREFIX}.*",
                *_stream_owner(tokens),
                *_kv(subjects.ADAPTERS_BUCKET, write=False),
                *_objects(subjects.ADAPTER_FILES_BUCKET, write=False),
            ],
            ["svc.inference.>", f"{subjects.CANCEL_PREFIX}.*", f"{subjects.PING_PREFIX}.*"],
        ),
        "search": ([], [subjects.SEARCH_QUERY]),
        "adapters": (
            [
                "svc.inference.info",
                *_kv(subjects.ADAPTERS_BUCKET, write=True),
                *_objects(subjects.ADAPTER_FILES_BUCKET, write=True),
            ],
            ["svc.adapters.>"],
        ),
        "training": (
            [
                subjects.TRAIN_JOBS,
                f"{subjects.TRAIN_PROGRESS_PREFIX}.*",
                f"$JS.ACK.{subjects.TRAIN_JOBS_STREAM}.>",
                f"$SRV.PING.{subjects.TRAINING_SERVICE}",
                subjects.ADAPTERS_REGISTER,
                subjects.INFERENCE_GPU_RELEASE,
                subjects.INFERENCE_GPU_RECLAIM,
                *_stream_owner(subjects.TRAIN_JOBS_STREAM),
                *_kv(subjects.TRAINING_BUCKET, write=True),
                *_kv(subjects.ADAPTERS_BUCKET, write=False),
                *_objects(subjects.ADAPTER_FILES_BUCKET, write=True),
                *_kv(subjects.DATASETS_BUCKET, write=True),
                *_objects(subjects.DATASETS_BUCKET, write=True),
                *_objects(subjects.DATASET_UPLOADS_BUCKET, write=True),
                *_objects(subjects.CHECKPOINTS_BUCKET, write=True),
            ],
            ["svc.training.>", f"{subjects.TRAIN_CANCEL_PREFIX}.*"],
        ),
    }
    out = {}
    for user, (publish, subscribe) in rules.items():
        common_publish, common_subscribe = _common(user)
        out[user] = Permissions(tuple(common_publish + publish), tuple(common_subscribe + subscribe))
    return out


@dataclass
class Credentials:
    """Every user's password, read from or written to a folder (one `<user>.password` file each)."""

    folder: Path
    passwords: dict[str, str] = field(default_factory=dict)

    @classmethod
    def ensure(cls, folder: Path) -> Credentials:
        """Read the passwords in `folder`, making (mode 0600) those that are missing."""
        folder.mkdir(parents=True, exist_ok=True)
        creds = cls(folder)
        for user in [*permissions(), OPERATOR]:
            path = folder / f"{user}.password"
            _ensure_secret(path)
            creds.passwords[user] = path.read_text().strip()
        return creds

    def authorization(self) -> str:
        """The nats-server `authorization` block for these users."""
        users = []
        for user, rules in permissions().items():
            users.append(
                f"    {{ user: {json.dumps(user)}, password: {json.dumps(self.passwords[user])},\n"
                f"      permissions: {{\n"
                f"        publish: {{ allow: {json.dumps(list(rules.publish))} }},\n"
                f"        subscribe: {{ allow: {json.dumps(list(rules.subscribe))} }},\n"
                f'        allow_responses: {{ max: 1000, expires: "5m" }}\n'
                f"      }} }}"
            )
        users.append(f"    {{ user: {json.dumps(OPERATOR)}, password: {json.dumps(self.passwords[OPERATOR])} }}")
        return (
            "# written by `python -m services.runtime.nats_auth`; one user per service\nauthorization {\n  users: [\n"
            + ("\n".join(users))
            + "\n  ]\n}\n"
        )

    def write_conf(self) -> Path:
        """Write `auth.conf` (mode 0600) next to the password files; returns its path."""
        path = self.folder / "auth.conf"
        path.touch(mode=0o600)
        path.write_text(self.authorization())
        os.chmod(path, 0o600)
        return path


def _ensure_secret(path: Path) -> None:
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32) + "\n")


def main(argv: list[str]) -> int:
    """`OUT_DIR [--gateway-key]`: the users' passwords and auth.conf; with --gateway-key also a gateway admin
    API key in `OUT_DIR/gateway-admin.key` (for GATEWAY_ADMIN_KEYS_FILE), made once."""
    args = [a for a in argv if a != "--gateway-key"]
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m services.runtime.nats_auth OUT_DIR [--gateway-key]", file=sys.stderr)
        return 2
    creds = Credentials.ensure(Path(args[0]))
    print(f"wrote {creds.write_conf()} and {len(creds.passwords)} password files in {creds.folder}")
    if "--gateway-key" in argv:
        _ensure_secret(creds.folder / "gateway-admin.key")
        print(f"gateway admin key in {creds.folder / 'gateway-admin.key'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
