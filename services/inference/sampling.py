"""Choosing each request's next token from its own row of logits, with its own random generator.

A seed belongs to its request (a `torch.Generator` each), never to the process: `torch.manual_seed` would let
any other sampling request move a seeded one's draws.
"""

from __future__ import annotations

import random

import torch

from messages import GenerationParams


class Sampler:
    """Greedy (temperature 0) or temperature + top-p sampling for one request.

    `pick` takes one row of logits (shape `[vocab]`, any float dtype) and returns a token id. A seeded request
    draws the same numbers whatever else runs: exactly one draw from its own generator per sampled token.
    """

    def __init__(self, params: GenerationParams) -> None:
        self.greedy = params.temperature <= 0
        self._temperature = params.temperature
        self._top_p = params.top_p
        self._generator: torch.Generator | None = None
        if not self.greedy:
            self._generator = torch.Generator()
            seed = params.seed if params.seed is not None else random.SystemRandom().getrandbits(63)
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
