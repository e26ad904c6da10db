"""Continuous batching: concurrent generations share each forward pass of one engine thread.

Each turn of the loop (one "step"): run model changes that were asked for (adapter loads), drop cancelled
requests, read one chunk of the prompts being prefilled (chunked prefill, as vLLM does: a long prompt takes
several steps, so it never stalls the batch or a cancel), then one decode step for every request in the
batch. A request joins the batch when its prompt is read and leaves it when it ends, between steps, so a
new request never waits for a long one.

Each request keeps what it would have alone: its adapter (peft applies adapters per row of a batch through
`adapter_names`), its own sampler and seed (`sampling.Sampler`), its temperature, top-p, stop strings and
length, and its constraint: a constrained row's logits are masked by its own grammar matcher before every
pick, the first token's included (`grammar`), so constrained and free rows share one batch. A request for `n`
answers is prefilled once, then its row and KV cache are copied into `n` rows that decode on their own (answer
i samples with seed + i). Rows that ask for logprobs get them from their logits before temperature and top-p
(after the grammar's mask).

The batch's KV cache is left-padded (`kv_cache`); padding changes the shapes of the matrix products, so
float32 results can differ from a lone request's in the last bits of a logit (see the README).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import torch
from transformers import DynamicCache

from messages import ErrorCode, FinishReason, GenerateRequest, SwitchboardError, TokenLogprob

from . import kv_cache
from .decoding import TextStream
from .engine_core import Occupancy, Sink
from .grammar import DEAD_END, RowGrammar, mask_rows
from .kv_cache import PaddedCache
from .model_runner import BASE, Job, ModelRunner, Outcome
from .sampling import Sampler, token_logprobs

log = logging.getLogger("switchboard.inference.batched")


@dataclass(frozen=True)
class BatchLimits:
    """`max_rows`: requests decoded together. `prefill_chunk_tokens`: prompt tokens read per step, all rows
    of a prefill together. `kv_cache_bytes`: what the batch's keys and values may take, reserved for each
    request's prompt plus `max_new_tokens` in the padded layout (rows x the longest reservation)."""

    max_rows: int
    prefill_chunk_tokens: int
    kv_cache_bytes: int


HOLD_S = 2.0  # how long a reservation outlives its request's last retry (the gateway retries every 0.05-0.5 s)


@dataclass(frozen=True)
class _Hold:
    """A request refused for KV room, the tokens each of its rows needs and its rows, until `until`
    (time.monotonic())."""

    request_id: str
    tokens: int
    rows: int
    until: float


class _Row:
    """One answer on its way through the engine. Until its prompt is read, the row of a request for `n`
    answers stands for all of them (`choices` is n); then `fork` makes it n rows of one answer each."""

    def __init__(self, job: Job, sink: Sink, stream: TextStream, index: int = 0) -> None:
        self.job = job
        self.sink = sink
        self.stream = stream
        self.index = index  # the answer's index (TokenChunk.index)
        self.choices = job.choices if index == 0 else 1  # answers this row stands for
        self.sampler = Sampler(job.params, index)
        self.grammar = RowGrammar(job.grammar) if job.grammar is not None else None
        self.prompt: list[int] = job.input_ids[0].tolist()
        self.length = len(self.prompt)  # tokens of this row in the cache once its prompt is read
        self.next_token = 0  # the sampled token that the next decode step feeds
        # entries of tokens whose text has not gone out yet (None: the request did not ask for logprobs)
        self.logprobs: list[TokenLogprob] | None = [] if job.wants_logprobs else None

    def fork(self, runner: ModelRunner) -> list[_Row]:
        """This row (now answer 0 alone) and one new row for each other answer, in index order."""
        others = [_Row(self.job, self.sink, runner.text_stream(self.job), i) for i in range(1, self.choices)]
        self.choices = 1
        return [self, *others]

    def sent_logprobs(self) -> list[TokenLogprob] | None:
        """The entries waiting to go out with the next text, taken."""
        taken = self.logprobs
        if taken is not None:
            self.logprobs = []
        return taken


class _Prefill:
    """Prompts read together: left-padded to one width, a chunk of columns per step."""

    def __init__(self, rows: list[_Row], device: torch.device, cache: Any) -> None:
        width = max(r.length for r in rows)
        self.rows = rows
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - row.length :] = torch.tensor(row.prompt, dtype=torch.long)
            mask[i, width - row.length :] = 1
        self.ids = ids.to(device)
        self.mask = mask.to(device)
        self.positions = (self.mask.cumsum(-1) - 1).clamp(min=0)
        self.read = 0  # columns read so far
        self.cache = cache

    @property
    def width(self) -> int:
        return int(self.ids.shape[1])

    def drop(self, keep: list[int]) -> None:
        """Keep only the rows at `keep` (a cancel arrived mid-prompt)."""
        index = torch.tensor(keep, dtype=torch.long, device=self.ids.device)
        self.rows = [self.rows[i] for i in keep]
        self.ids, self.mask, self.positions = (t.index_select(0, index) for t in (self.ids, self.mask, self.positions))
        if self.read:
            padded = PaddedCache(self.cache, self.mask[:, : self.read])
            kv_cache.keep(padded, list(range(len(keep))))
            cut = self.read - padded.columns  # leading columns no remaining row uses
            self.ids, self.mask, self.positions = (t[:, cut:] for t in (self.ids, self.mask, self.positions))
            self.read -= cut


class BatchedCore:
    """The continuous-batching engine on one `ModelRunner`'s model. Thread-safe: `submit`, `between_steps`,
    `wake` and `stop` may be called from any thread; all model work happens on the engine's own thread."""

    name = "batched"

    def __init__(self, runner: ModelRunner, limits: BatchLimits) -> None:
        self._runner = runner
        self._limits = limits
        self._device = torch.device(runner.device)
        self._token_bytes = kv_cache.bytes_per_token(runner.base_model.config, runner.element_size)
        self._submitted: deque[_Row] = deque()
        self._changes: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._stopping = False
        self._waiting: list[_Row] = []  # admitted, prompt not read yet
        self._prefill: _Prefill | None = None
        self._rows: list[_Row] = []  # decoding, in the batch cache's row order
        self._batch: PaddedCache | None = None
        self._held: _Hold | None = None  # see check_room
        self._token_texts: dict[int, tuple[str, list[int] | None]] = {}  # logprobs' tokens, decoded once each
        self._thread = threading.Thread(target=self._loop, name="batched-engine", daemon=True)
        self._thread.start()

    # -- any thread --------------------------------------------------------------------------------

    def submit(self, job: Job, sink: Sink) -> None:
        row = _Row(job, sink, self._runner.text_stream(job))
        with self._lock:
            if self._stopping:
                raise SwitchboardError(ErrorCode.UNAVAILABLE, "this inference worker is shutting down")
            self._submitted.append(row)
        self._wakeup.set()

    def between_steps(self, change: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._stopping:
                future.set_exception(SwitchboardError(ErrorCode.UNAVAILABLE, "the inference worker is stopping"))
                return future
            self._changes.append((change, future))
        self._wakeup.set()
        return future

    def wake(self) -> None:
        self._wakeup.set()

    def occupancy(self) -> Occupancy:
        prefill = self._prefill
        batch = self._batch
        waiting = len(self._waiting) + len(self._submitted) + (len(prefill.rows) if prefill else 0)
        return Occupancy(
            decoding=len(self._rows), waiting=waiting, kv_cache_bytes=batch.nbytes() if batch is not None else 0
        )

    def check_supported(self, request: GenerateRequest) -> None:
        return None  # constraints, logprobs and n > 1 all run in the batch

    def check_room(self, job: Job, admitted: list[Job]) -> None:
        """Raises BAD_REQUEST when the request alone needs more KV cache than the budget, BUSY when it does
        not fit beside the `admitted` ones now (the gateway then asks again until there is room, then says BUSY).
        A request for `n` answers reserves n rows.

        A request refused for room holds a reservation while its retries keep coming (`HOLD_S` after the
        last): later requests are admitted only if they fit beside it too, so a long prompt is not starved
        by a stream of short chats. Call on the event loop only."""
        need = job.prompt_tokens + job.max_new_tokens
        limit_mb = self._limits.kv_cache_bytes / 2**20
        if job.choices * need * self._token_bytes > self._limits.kv_cache_bytes:
            answers = f" for each of its {job.choices} answers (n)" if job.choices > 1 else ""
            raise SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"the prompt ({job.prompt_tokens} tokens) and maxNewTokens ({job.max_new_tokens}){answers} need "
                f"{job.choices * need * self._token_bytes / 2**20:.0f} MiB of KV cache, more than this worker's "
                f"INFERENCE_KV_CACHE_MB ({limit_mb:.0f}); ask for fewer new tokens or answers, or shorten the prompt",
            )
        now = time.monotonic()
        held = self._held if self._held is not None and self._held.until > now else None
        reserved = [need] * job.choices
        for other in admitted:
            reserved += [other.prompt_tokens + other.max_new_tokens] * other.choices
        if held is not None and held.request_id != job.request_id:
            reserved += [held.tokens] * held.rows
        if len(reserved) * max(reserved) * self._token_bytes > self._limits.kv_cache_bytes:
            if held is None or held.request_id == job.request_id:
                self._held = _Hold(job.request_id, need, job.choices, now + HOLD_S)
            raise SwitchboardError(
                ErrorCode.BUSY,
                f"the inference worker's KV cache is full ({len(admitted)} generation(s), "
                f"INFERENCE_KV_CACHE_MB={limit_mb:.0f}); try again in a moment",
            )
        if held is not None and held.request_id == job.request_id:
            self._held = None

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        self._wakeup.set()
        self._thread.join(timeout=30)

    # -- the engine's thread -----------------------------------------------------------------------

    def _loop(self) -> None:
        with torch.inference_mode():
            while True:
                self._wakeup.clear()
                self._run_changes()
                with self._lock:
                    stopping = self._stopping
                    self._waiting.extend(self._submitted)
                    self._submitted.clear()
                if stopping:
                    self._end_everything()
                    return
                try:
                    worked = self._step()
                except Exception as exc:  # a bug or an out-of-memory: fail what is running, keep serving
                    log.exception("batched step failed")
                    self._fail_everything(exc)
                    worked = True
                if not worked:
                    self._wakeup.wait()

    def _run_changes(self) -> None:
        while True:
            with self._lock:
                if not self._changes:
                    return
                change, future = self._changes.popleft()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(change())
                except BaseException as exc:
                    future.set_exception(exc)

    def _step(self) -> bool:
        self._drop_cancelled()
        worked = False
        if self._prefill is None and self._waiting:
            self._prefill = self._start_prefill()
        if self._prefill is not None:
            self._prefill_chunk(self._prefill)
            worked = True
        if self._rows:
            self._decode()
            worked = True
        return worked

    def _start_prefill(self) -> _Prefill:
        """The oldest waiting prompt, with the next ones of about its length (so padding wastes little)."""
        first = self._waiting[0]
        taken = [first]
        room = self._limits.max_rows - len(self._rows) - first.choices  # rows once each prompt's answers fork
        for row in self._waiting[1:]:
            if room < row.choices:
                break
            width = max(row.length, *(r.length for r in taken))
            real = row.length + sum(r.length for r in taken)
            if width * (len(taken) + 1) <= real * 1.25 + 16 * (len(taken) + 1):
                taken.append(row)
                room -= row.choices
        self._waiting = [row for row in self._waiting if row not in taken]
        return _Prefill(taken, self._device, DynamicCache(config=self._runner.base_model.config))

    def _prefill_chunk(self, prefill: _Prefill) -> None:
        columns = max(16, self._limits.prefill_chunk_tokens // len(prefill.rows))
        start, end = prefill.read, min(prefill.width, prefill.read + columns)
        logits = self._forward(
            prefill.rows,
            prefill.ids[:, start:end],
            prefill.mask[:, :end],
            prefill.positions[:, start:end],
            prefill.cache,
        )
        prefill.read = end
        if end < prefill.width:
            return
        rows: list[_Row] = []
        order: list[int] = []  # for each new row, the prefilled row it copies
        for i, row in enumerate(prefill.rows):
            answers = row.fork(self._runner) if row.choices > 1 else [row]
            rows += answers
            order += [i] * len(answers)
        padded = PaddedCache(prefill.cache, prefill.mask)
        if len(order) > len(prefill.rows):  # n > 1: each answer decodes from its own copy of the prompt's cache
            padded = kv_cache.keep(padded, order)
            logits = logits.index_select(0, torch.tensor(order, dtype=torch.long, device=logits.device))
        first = self._pick(rows, logits)
        start = len(self._rows)
        self._batch = kv_cache.join(self._batch, padded)
        self._rows.extend(rows)  # in the batch before their first text goes out
        self._prefill = None
        kept = list(range(start))
        for i, row in enumerate(rows):
            if self._take(row, *first[i]):
                kept.append(start + i)
        if len(kept) < len(self._rows):
            self._leave(kept)

    def _decode(self) -> None:
        batch = self._batch
        assert batch is not None
        ids = torch.tensor([[row.next_token] for row in self._rows], dtype=torch.long, device=self._device)
        positions = torch.tensor([[row.length] for row in self._rows], dtype=torch.long, device=self._device)
        mask = torch.cat([batch.mask, batch.mask.new_ones((batch.rows, 1))], dim=1)
        logits = self._forward(self._rows, ids, mask, positions, batch.cache)
        batch.mask = mask
        picked = self._pick(self._rows, logits)
        kept: list[int] = []
        for i, row in enumerate(self._rows):
            row.length += 1
            if self._take(row, *picked[i]):
                kept.append(i)
        if len(kept) < len(self._rows):
            self._leave(kept)

    def _forward(
        self, rows: list[_Row], ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, cache: Any
    ) -> torch.Tensor:
        """One forward pass; the last position's logits of each row, `[rows, vocab]`."""
        runner = self._runner
        extra: dict[str, Any] = {}
        if runner.model is not runner.base_model:  # a PeftModel: each row names its own adapter
            extra["adapter_names"] = [row.job.adapter_key or BASE for row in rows]
        out = runner.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
            **extra,
        )
        return out.logits[:, -1, :].contiguous()  # type: ignore[no-any-return]

    def _pick(self, rows: list[_Row], logits: torch.Tensor) -> list[tuple[int, TokenLogprob | None]]:
        """Each row's next token from its row of `logits` (`[rows, vocab]`, masked here in place where the row
        has a grammar), with its logprobs entry where the row asks for one."""
        constrained = [(i, r.grammar) for i, r in enumerate(rows) if r.grammar is not None]
        dead = mask_rows(logits, constrained, self._vocab_size)  # rows whose grammar allows nothing next
        tokens = [DEAD_END if i in dead else row.sampler.pick(logits[i]) for i, row in enumerate(rows)]
        entries: list[TokenLogprob | None] = [None] * len(rows)
        asking = [i for i, row in enumerate(rows) if row.logprobs is not None and i not in dead]
        if asking:
            index = torch.tensor(asking, dtype=torch.long, device=logits.device)
            found = token_logprobs(
                logits.index_select(0, index),
                [tokens[i] for i in asking],
                [rows[i].job.params.top_logprobs for i in asking],
                self._token_text,
            )
            for i, entry in zip(asking, found, strict=True):
                entries[i] = entry
        return list(zip(tokens, entries, strict=True))

    @property
    def _vocab_size(self) -> int:
        return self._runner.grammars.vocab_size

    def _token_text(self, token: int) -> tuple[str, list[int] | None]:
        """A token's text for logprobs, and its raw bytes where the text does not spell them (decoded once)."""
        known = self._token_texts.get(token)
        if known is None:
            text = str(self._runner.tokenizer.decode([token]))
            raw = self._runner.grammars.token_bytes(token)
            known = self._token_texts[token] = (text, None if raw == text.encode() else list(raw))
        return known

    def _take(self, row: _Row, token: int, logprob: TokenLogprob | None = None) -> bool:
        """Hand the sampled token to its answer; False when the answer is over (its sink was told)."""
        if row.job.cancel.is_set():
            self._finish(row, FinishReason.CANCELLED)
            return False
        if row.grammar is not None and (token == DEAD_END or not row.grammar.accept(token)):
            self._dead_end(row, token)
            return False
        text = row.stream.push(token)
        if logprob is not None and row.logprobs is not None and not row.stream.ended_turn:
            row.logprobs.append(logprob)  # as OpenAI: no entry for the end-of-turn token, which has no text
        if text:
            row.sink.text(text, row.sent_logprobs(), row.index)
        if row.stream.finish_reason is not None:
            self._finish(row, FinishReason(row.stream.finish_reason))
            return False
        if row.grammar is not None and row.grammar.terminated:
            self._finish(row, FinishReason.STOP)
            return False
        row.next_token = token
        return True

    def _dead_end(self, row: _Row, token: int) -> None:
        """End a request whose grammar allows no next token (a regex or schema that no text can complete,
        e.g. `a[^\\s\\S]`): refused BAD_REQUEST on `constraint`, its other answers cancelled. A token the
        mask allowed but the matcher refused would be the engine's fault: INTERNAL."""
        if token == DEAD_END:
            error = SwitchboardError(
                ErrorCode.BAD_REQUEST,
                f"can never be completed: after {row.stream.count} token(s) no token may come next, so no answer "
                "can satisfy it (a regex or schema that matches no text?)",
                "constraint",
            )
        else:
            log.error("the grammar refused a token its mask allowed", extra={"request_id": row.job.request_id})
            error = SwitchboardError(ErrorCode.INTERNAL, "the grammar engine refused a token its mask allowed")
        row.job.cancel.set()  # the request's other answers end at their next step
        row.sink.failed(error)

    def _finish(self, row: _Row, reason: FinishReason) -> None:
        """Tell the sink the row's answer ended (every answer it stands for, before its prompt was read)."""
        if reason is not FinishReason.CANCELLED:
            tail = row.stream.tail()
            if tail:
                row.sink.text(tail, row.sent_logprobs(), row.index)
        rest = row.sent_logprobs() or None
        row.sink.done(Outcome(reason, row.stream.count, row.index, rest))
        for index in range(row.index + 1, row.index + row.choices):  # never forked: its other answers end too
            row.sink.done(Outcome(reason, 0, index))

    def _leave(self, kept: list[int]) -> None:
        self._rows = [self._rows[i] for i in kept]
        if not kept:
            self._batch = None
        elif self._batch is not None:
            self._batch = kv_cache.keep(self._batch, kept)

    def _drop_cancelled(self) -> None:
        for row in [r for r in self._waiting if r.job.cancel.is_set()]:
            self._waiting.remove(row)
            self._finish(row, FinishReason.CANCELLED)
        prefill = self._prefill
        if prefill is not None and any(r.job.cancel.is_set() for r in prefill.rows):
            keep = [i for i, r in enumerate(prefill.rows) if not r.job.cancel.is_set()]
            for row in prefill.rows:
                if row.job.cancel.is_set():
                    self._finish(row, FinishReason.CANCELLED)
            if keep:
                prefill.drop(keep)
            else:
                self._prefill = None
        if any(r.job.cancel.is_set() for r in self._rows):
            keep = [i for i, r in enumerate(self._rows) if not r.job.cancel.is_set()]
            for row in self._rows:
                if row.job.cancel.is_set():
                    self._finish(row, FinishReason.CANCELLED)
            self._leave(keep)

    def _everyone(self) -> list[_Row]:
        rows = [*self._waiting, *(self._prefill.rows if self._prefill else []), *self._rows]
        self._waiting, self._prefill, self._rows, self._batch = [], None, [], None
        return rows

    def _fail_everything(self, error: BaseException) -> None:
        told: set[int] = set()
        for row in self._everyone():  # a request's answers share one sink: it hears `failed` once
            if id(row.sink) not in told:
                told.add(id(row.sink))
                row.sink.failed(error)

    def _end_everything(self) -> None:
        for row in self._everyone():
            self._finish(row, FinishReason.CANCELLED)
        while self._changes:
            _change, future = self._changes.popleft()
            future.cancel()
