"""Choosing each answer's next token from its own row of logits, with its own random generator, and
reporting the log-probabilities of what was chosen.

A seed belongs to its answer (a `torch.Generator` each), never to the process: `torch.manual_seed` would let
any other sampling request move a seeded one's draws. Answer i of a request with `n` > 1 draws with seed + i.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import torch

from messages import GenerationParams, TokenLogprob, TopLogprob


class Sampler:
    """Greedy (temperature 0) or temperature + top-p sampling for one request.

    `pick` takes one row of logits (shape `[vocab]`, any float dtype) and returns a token id. A seeded request
    draws the same numbers whatever else runs: exactly one draw from its own generator per sampled token.
    """

    def __init__(self, params: GenerationParams, index: int = 0) -> None:
        self.greedy = params.temperature <= 0
        self._temperature = params.temperature
        self._top_p = params.top_p
        self._generator: torch.Generator | None = None
        if not self.greedy:
            self._generator = torch.Generator()
            seed = params.seed + index if params.seed is not None else random.SystemRandom().getrandbits(63)
            self._generator.manual_seed(seed)

    def pick(self, logits: torch.Tensor) -> int:
        if self.greedy or self._generator is None:
            return int(torch.argmax(logits).item())
        probs = torch.softmax(logits.float().cpu() / self._temperature, dim=-1)
        if self._top_p < 1.0:
            sorted_probs, order = torch.sort(probs, descending=True)
            before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the more likely tokens
            sorted_probs[before >= self._top_p] = 0.0  # the most likely token always stays
            choice = torch.multinomial(sorted_probs, 1, generator=self._generator)
            return int(order[choice].item())
        return int(torch.multinomial(probs, 1, generator=self._generator).item())


def token_logprobs(
    logits: torch.Tensor, chosen: list[int], top: list[int], text: Callable[[int], tuple[str, list[int] | None]]
) -> list[TokenLogprob]:
    """The log-probability of each row's chosen token and its `top` most likely tokens (most likely first).

    `logits`: `[rows, vocab]`, the model's own (before temperature and top-p; masked by a grammar where the
    row has one: disallowed tokens, at -inf, are never listed); `chosen` and `top`: one entry per row;
    `text(id)` the token's text and, where that text does not spell them, its raw bytes (else None). Natural
    logs of a float32 softmax, each <= 0."""
    logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
    wanted = max(top, default=0)
    best = torch.topk(logprobs, wanted, dim=-1) if wanted else None
    entries: list[TokenLogprob] = []
    for row, token in enumerate(chosen):
        tops: list[TopLogprob] = []
        if best is not None:
            for value, token_id in zip(
                best.values[row, : top[row]].tolist(), best.indices[row, : top[row]].tolist(), strict=True
            ):
                if math.isfinite(value):
                    spelled, raw = text(int(token_id))
                    tops.append(TopLogprob(spelled, float(value), raw))
        spelled, raw = text(token)
        entries.append(TokenLogprob(spelled, float(logprobs[row, token]), tops, raw))
    return entries
