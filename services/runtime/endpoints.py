"""Answering micro requests the same way in every service: each request in its own task (micro hands
one subscription's requests over one at a time), every failure a typed error reply, never a crash."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nats.errors import Error as NatsError
from nats.micro.request import Request

from messages import ErrorCode, ErrorMessage, SwitchboardError, encode

from .replies import reply_error

Q = TypeVar("Q")
Answer = Callable[[bytes], Awaitable[Any]]


def decoding(decode: Callable[[bytes, type[Q]], Q], kind: type[Q], operation: Callable[[Q], Awaitable[Any]]) -> Answer:
    """`operation` fed with the request body decoded as `kind` by `decode`."""

    async def answer(data: bytes) -> Any:
        return await operation(decode(data, kind))

    return answer


class Responder:
    """Builds micro handlers; `store` names what a NATS failure makes unavailable (for the message)."""

    def __init__(self, log: logging.Logger, store: str) -> None:
        self._log = log
        self._store = store
        self._tasks: set[asyncio.Task[None]] = set()

    def handler(self, verb: str, answer: Answer) -> Callable[[Request], Awaitable[None]]:
        async def on_request(req: Request) -> None:
            task = asyncio.create_task(self._handle(verb, req, answer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return on_request

    async def drain(self, timeout_s: float) -> None:
        """Wait for the requests being answered (at most `timeout_s`)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout_s)

    async def _handle(self, verb: str, req: Request, answer: Answer) -> None:
        try:
            reply = await answer(req.data)
        except SwitchboardError as exc:
            if exc.code is not ErrorCode.BAD_REQUEST:
                self._log.info("request refused", extra={"verb": verb, "code": exc.code.value, "why": str(exc)})
            await reply_error(req, exc.to_message())
            return
        except NatsError as exc:
            self._log.warning(f"{self._store} unavailable", extra={"verb": verb, "error": repr(exc)})
            await reply_error(req, ErrorMessage(ErrorCode.UNAVAILABLE, f"the {self._store} is unavailable: {exc}"))
            return
        except Exception as exc:  # never let a bad request take the service down
            self._log.exception("request failed", extra={"verb": verb})
            await reply_error(req, ErrorMessage(ErrorCode.INTERNAL, f"internal error: {exc}"))
            return
        with contextlib.suppress(Exception):
            await req.respond(encode(reply))
