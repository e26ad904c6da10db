"""Constrained field types shared by several messages, and what each pattern allows in words."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

REQUEST_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ADAPTER_NAME_PATTERN = r"^(?!.*\.\.)[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?$"
SUBJECT_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,15}$"  # a NATS subject without wildcards or spaces
UTC_TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$"

NAME_RULES = "letters, digits, '.', '_' and '-', 1 to 64 characters, no leading or trailing dot and no '..'"

RequestId = Annotated[str, Meta(pattern=REQUEST_ID_PATTERN)]
AdapterName = Annotated[str, Meta(pattern=ADAPTER_NAME_PATTERN)]
UtcTimestamp = Annotated[str, Meta(pattern=UTC_TIMESTAMP_PATTERN)]
Subject = Annotated[str, Meta(pattern=SUBJECT_PATTERN, max_length=256)]

# what a value must look like, by the pattern it missed (msgspec's errors name only the regex)
PATTERN_RULES: dict[str, str] = {
    REQUEST_ID_PATTERN: "letters, digits, '_' and '-', 1 to 64 characters",
    ADAPTER_NAME_PATTERN: NAME_RULES,
    SUBJECT_PATTERN: "a NATS subject: dot-separated tokens of letters, digits, '_' and '-', no wildcards",
    UTC_TIMESTAMP_PATTERN: "an ISO 8601 UTC time such as 2026-01-31T12:00:00Z",
}
