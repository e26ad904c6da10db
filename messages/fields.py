"""Constrained field types shared by several messages."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

RequestId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# letters, digits, ".", "_", "-"; 1 to 64 characters; no leading or trailing dot, no ".."
AdapterName = Annotated[str, Meta(pattern=r"^(?!.*\.\.)[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?$")]
