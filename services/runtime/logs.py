"""Structured logs: `event key=value` lines for people, or JSON lines with LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# an API key in a bearer token, wherever a library's message or traceback quotes a request (aiohttp's
# "line too long" error quotes the header it refused): never written out
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",;\\]+")


def redact(text: str) -> str:
    """`text` with every `Bearer <token>` token replaced by `[redacted]`."""
    return _BEARER.sub(r"\1[redacted]", text)


class _Formatter(logging.Formatter):
    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in vars(record).items() if k not in _RESERVED}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        if self.as_json:
            payload: dict[str, Any] = {
                "ts": stamp,
                "level": record.levelname.lower(),
                "logger": record.name,
                "event": record.getMessage(),
                **fields,
            }
            if record.exc_info:
                payload["exc"] = self.formatException(record.exc_info)
            return redact(json.dumps(payload, default=str))
        extras = " ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
        line = f"{stamp} {record.levelname:<5} {record.name}: {record.getMessage()}"
        if extras:
            line += " " + extras
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


def _fmt(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or not text) else text


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once per process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(as_json=fmt == "json"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("nats", "aiohttp.access", "httpx", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # nats-py logs every failed reconnect attempt with a traceback; connection.py's error callback already logs
    # each one on a line of its own
    logging.getLogger("nats.aio.client").setLevel(logging.CRITICAL)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"switchboard.{name}")
