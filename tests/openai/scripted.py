"""A gateway over a scripted inference worker, for the `/v1` tests of what the worker sends back (choices, tool
calls, logprobs) and of what the gateway asks of it (constraints, tools, n, logprobs): each test scripts the
chunks for its own last user turn, and reads the `GenerateRequest` the worker received."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from messages import GenerateRequest
from messages.inference import TokenLogprob, TopLogprob
from services.runtime import Settings
from tests.support.gateway import gateway
from tests.support.scripted_worker import Script, ScriptedWorker, scripted_worker

MODEL = "scripted/model"
SCRIPTS: dict[str, Script] = {}  # the request's last user turn (or prompt) -> what the worker sends back
LIMITS = {"max_choices": 4, "max_tools": 4, "max_schema_chars": 2000}  # the gateway's settings here


def key_of(request: GenerateRequest) -> str:
    if request.prompt is not None:
        return request.prompt
    return next(m.content for m in reversed(request.messages or []) if m.role == "user")


def by_key(request: GenerateRequest) -> Script:
    return SCRIPTS.get(key_of(request), Script(["ok"]))


@dataclass
class ScriptedV1:
    url: str  # the `/v1` base URL
    worker: ScriptedWorker

    def asked(self, key: str) -> GenerateRequest:
        """The last request the worker received for `key`."""
        return next(r for r in reversed(self.worker.requests) if key_of(r) == key)


@contextlib.asynccontextmanager
async def scripted_v1(settings: Settings) -> AsyncIterator[ScriptedV1]:
    async with scripted_worker(settings.nats_url, by_key, model_id=MODEL) as worker:
        async with gateway(settings, **LIMITS) as url:
            yield ScriptedV1(url.replace("/graphql", "/v1"), worker)


def lp(token: str, logprob: float, *top: tuple[str, float]) -> TokenLogprob:
    return TokenLogprob(token, logprob, [TopLogprob(t, v) for t, v in top])


def turn(text: str) -> list[Any]:
    """`text` as a one-user-turn `messages`."""
    return [{"role": "user", "content": text}]
