"""API keys and their two roles at the gateway: who may call which root field.

Keys come from `GATEWAY_ADMIN_KEYS` and `GATEWAY_USER_KEYS` (comma-separated), or from the files named
by `GATEWAY_ADMIN_KEYS_FILE` / `GATEWAY_USER_KEYS_FILE` (one key per line or comma-separated; blank
lines and `#` comments skipped), as container secrets are mounted. A caller presents one as
`Authorization: Bearer <key>` (RFC 6750) over HTTP, or in the graphql-transport-ws `connection_init`
payload (`{"Authorization": "Bearer <key>"}`, the graphql-ws convention; browsers cannot set headers
on a websocket).

A user key may chat and read; everything that changes the server needs an admin key. `{ health }`
needs none (liveness probes). Keys are compared in constant time (SHA-256 digests of equal length,
`hmac.compare_digest` against every key, no early exit) and never logged. With no key configured every
caller is an admin, as before keys existed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from messages import ErrorCode, SwitchboardError


class Role(Enum):
    USER = "user"
    ADMIN = "admin"


# root fields a user key may call; every other field of Mutation needs an admin key
USER_FIELDS = frozenset(
    {
        "health",
        "modelInfo",
        "adapters",
        "fineTuneStatus",
        "fineTuneJobs",
        "datasets",
        "dataset",
        "webSearch",
        "access",
        "inferResume",
        "infer",
        "inferStream",
        "fineTuneProgress",
    }
)
ADMIN_FIELDS = frozenset(
    {
        "startFineTune",
        "cancelFineTune",
        "deleteFineTuneJob",
        "loadAdapter",
        "useBaseModel",
        "deleteAdapter",
        "uploadDataset",
        "deleteDataset",
    }
)
OPEN_FIELDS = frozenset({"health", "__typename"})  # answered without a key
MIN_KEY_CHARS = 16
GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class ApiKeys:
    """The configured keys, kept as SHA-256 digests. `enabled` is False when none is set."""

    admin: tuple[bytes, ...] = ()
    user: tuple[bytes, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.admin or self.user)

    @classmethod
    def of(cls, admin: list[str], user: list[str]) -> ApiKeys:
        """Raises SwitchboardError (BAD_REQUEST) for a key shorter than 16 characters or one in both lists."""
        for key in admin + user:
            if len(key) < MIN_KEY_CHARS:
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST,
                    f"an API key is shorter than {MIN_KEY_CHARS} characters; make one with {GENERATE_HINT}",
                )
        if set(admin) & set(user):
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "a key is both an admin key and a user key; use it once")
        return cls(tuple(_digest(k) for k in admin), tuple(_digest(k) for k in user))

    @classmethod
    def from_env(cls) -> ApiKeys:
        """Raises SwitchboardError (BAD_REQUEST) for a key file that cannot be read, or a bad key."""
        return cls.of(_keys("GATEWAY_ADMIN_KEYS"), _keys("GATEWAY_USER_KEYS"))

    def role_of(self, key: str) -> Role | None:
        """The role of `key`, None for an unknown one; the time taken does not depend on which key matched."""
        given = _digest(key)
        found: Role | None = None
        for role, digests in ((Role.ADMIN, self.admin), (Role.USER, self.user)):
            for digest in digests:
                if hmac.compare_digest(given, digest) and found is None:
                    found = role
        return found


def _split(text: str, source: str) -> list[str]:
    """The keys in `text`: comma- or line-separated (lines end at `\n`, an `\r` before it dropped), `#` starts
    a comment (so a key holds neither `,` nor `#`), spaces and tabs around a key dropped.

    Raises:
        SwitchboardError: BAD_REQUEST naming `source` and the line, for a key with a character an
            `Authorization: Bearer` header cannot carry (RFC 7230 field values; keys are printable ASCII
            without spaces; other line breaks, such as U+0085 or a form feed, are such characters), so such
            a key is refused at start instead of never matching; and for a key shorter than 16 characters.
    """
    keys: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for part in line.split("#", 1)[0].split(","):
            key = part.strip(" \t\r")
            if not key:
                continue
            where = f"{source}, line {number}"
            bad = next((c for c in key if not 0x21 <= ord(c) <= 0x7E), None)
            if bad is not None:
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST,
                    f"{where}: a key holds {bad!r} (U+{ord(bad):04X}), which an Authorization header cannot carry; "
                    "a key is printable ASCII without spaces, `,` or `#`",
                )
            if len(key) < MIN_KEY_CHARS:
                raise SwitchboardError(
                    ErrorCode.BAD_REQUEST,
                    f"{where}: a key is shorter than {MIN_KEY_CHARS} characters; make one with {GENERATE_HINT}",
                )
            keys.append(key)
    return keys


def _keys(name: str) -> list[str]:
    """The keys `name` and `name_FILE` give. A source that is set but holds no key is an error, not "no keys":
    a gateway must not fall open because a secret file came up empty. A file is read as UTF-8, with or
    without a byte-order mark (Windows editors write one)."""
    raw = os.environ.get(name, "")
    keys = _split(raw, name)
    if raw.strip() and not keys:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"{name} is set but holds no key")
    path = os.environ.get(f"{name}_FILE", "").strip()
    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"{name}_FILE={path}: cannot read it ({exc})") from exc
        found = _split(text, f"{name}_FILE={path}")
        if not found:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, f"{name}_FILE={path} holds no key")
        keys += found
    return keys


def bearer_key(authorization: object) -> str | None:
    """The key in an `Authorization: Bearer <key>` value (scheme case-insensitive), else None."""
    if not isinstance(authorization, str):
        return None
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def key_id(key: str) -> str:
    """A name for `key` that is safe to store and show: `key-` and 16 hex digits of a SHA-256 over the key
    (domain-separated from the digests compared above). It is recorded as the owner of the answers the key
    asks for (KV `answers`); it cannot be turned back into the key."""
    return "key-" + hashlib.sha256(b"switchboard answer owner\0" + key.encode()).hexdigest()[:16]


def new_key() -> str:
    """A fresh random key (32 bytes, URL-safe base64)."""
    return secrets.token_urlsafe(32)
