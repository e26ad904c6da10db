"""OpenAI's error shape (`{"error": {"message", "type", "param", "code"}}`) for Switchboard's errors: the HTTP
status of each code is `messages.HTTP_STATUS` (the same as the services' micro error headers), the type and code
OpenAI's names for it; `param` is the request field the error is about, in OpenAI's names (`max_tokens`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from messages import ErrorCode, SwitchboardError, http_status

from ..error_fields import openai_message, openai_param

# SwitchboardError code -> OpenAI's error type and code (the HTTP status comes from messages.HTTP_STATUS)
_OPENAI_ERROR: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.BAD_REQUEST: ("invalid_request_error", "invalid_value"),
    ErrorCode.CONTEXT_OVERFLOW: ("invalid_request_error", "context_length_exceeded"),
    ErrorCode.ADAPTER_MISSING: ("invalid_request_error", "model_not_found"),
    ErrorCode.INCOMPATIBLE: ("invalid_request_error", "model_incompatible"),
    ErrorCode.NOT_FOUND: ("invalid_request_error", "not_found"),
    ErrorCode.CONFLICT: ("invalid_request_error", "conflict"),
    ErrorCode.UNAUTHENTICATED: ("invalid_request_error", "invalid_api_key"),
    ErrorCode.FORBIDDEN: ("invalid_request_error", "forbidden"),
    ErrorCode.BUSY: ("rate_limit_error", "busy"),
    ErrorCode.RATE_LIMITED: ("rate_limit_error", "rate_limited"),
    ErrorCode.UNAVAILABLE: ("server_error", "unavailable"),
    ErrorCode.OFFLINE: ("server_error", "offline"),
    ErrorCode.TIMEOUT: ("server_error", "timeout"),
    ErrorCode.CANCELLED: ("server_error", "cancelled"),
    ErrorCode.INTERNAL: ("server_error", "internal"),
}


def error_body(message: str, error_type: str, param: str | None, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_response(status: int, message: str, error_type: str, param: str | None, code: str) -> web.Response:
    return web.json_response(error_body(message, error_type, param, code), status=status)


def from_switchboard(exc: SwitchboardError, constraint: str = "response_format") -> tuple[int, dict[str, Any]]:
    """HTTP status and OpenAI error body; `param` comes from the error's field (an adapter the model, the
    structured output `constraint`, the request field that asked for it)."""
    status = http_status(exc.code)
    error_type, code = _OPENAI_ERROR[exc.code]
    param = openai_param(exc.field, constraint)
    if param is None and exc.code is ErrorCode.INCOMPATIBLE:
        param = "model"
    return status, error_body(openai_message(exc, constraint), error_type, param, code)


def switchboard_response(exc: SwitchboardError, constraint: str = "response_format") -> web.Response:
    """`exc` as the HTTP response an OpenAI client reads (`constraint` as `from_switchboard` takes it)."""
    status, body = from_switchboard(exc, constraint)
    return web.json_response(body, status=status)
