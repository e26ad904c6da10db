"""A request body refused before it reaches a worker (OpenAI's 400 with `param`), and msgspec's complaint in
a user's words: shared by the modules that read `/v1` bodies."""

from __future__ import annotations

import msgspec


class OpenAIRequestError(Exception):
    """A request refused before it reaches a worker: HTTP 400 with OpenAI's error shape."""

    def __init__(self, message: str, param: str | None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


def detail(exc: msgspec.ValidationError) -> str:
    """msgspec's complaint without its path, starting lowercase: "expected `str`, got `int`"."""
    detail = str(exc).split(" - at ")[0]
    return detail[0].lower() + detail[1:]
