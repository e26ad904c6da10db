"""The model on this worker: loading it, building prompts, and one blocking generation at a time per thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from messages import ErrorCode, FinishReason, GenerateRequest, GenerationParams, SwitchboardError
from services.runtime import ModelSource

from .decoding import IncrementalDecoder, StopStringFilter
from .prompt import build_chat

BASE = "__base__"  # peft's name for "no adapter" in per-call adapter_names


@dataclass
class Prepared:
    """A validated request, tokenized and ready to run."""

    request_id: str
    input_ids: torch.Tensor
    params: GenerationParams
    max_new_tokens: int
    adapter: str | None = None  # None: the base model
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def prompt_tokens(self) -> int:
        return int(self.input_ids.shape[-1])


@dataclass(frozen=True)
class Outcome:
    finish_reason: FinishReason
    completion_tokens: int


def pick_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class Engine:
    """Owns the tokenizer and model; thread-safe for concurrent `generate` calls."""

    def __init__(self, source: ModelSource, *, load_in_4bit: bool, hf_token: str | None) -> None:
        self.source = source
        self.device = pick_device()
        self.load_in_4bit = load_in_4bit and self.device == "cuda"
        self.tokenizer: Any = AutoTokenizer.from_pretrained(source.location, token=hf_token)
        self._hf_token = hf_token
        self.base_model: Any = self._load_model()
        self.model: Any = self.base_model  # becomes a PeftModel once an adapter is loaded
        self.context_length = int(
            getattr(self.model.config, "max_position_embeddings", 0) or self.tokenizer.model_max_length
        )
        eos = self.model.generation_config.eos_token_id
        self.eos_ids: set[int] = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            self.eos_ids.add(int(self.tokenizer.eos_token_id))
        self.pad_id = (
            self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else min(self.eos_ids, default=0)
        )

    def _load_model(self) -> Any:
        kwargs: dict[str, Any] = {"token": self._hf_token}
        if self.device == "cuda":
            kwargs["device_map"] = {"": 0}
            if self.load_in_4bit:
                from transformers import BitsAndBytesConfig

                kwargs["quantization_config"] = BitsAndBytesConfig(  # type: ignore[no-untyped-call]
                    load_in_4bit=True,
                    bnb_4bit_quant_type="nf4",
                    bnb_4bit_compute_dtype=torch.float16,
                    bnb_4bit_use_double_quant=True,
                )
            else:
                kwargs["dtype"] = torch.float16
        else:
            kwargs["dtype"] = "auto"  # the bundled model is bf16, fastest on CPU here
        model = AutoModelForCausalLM.from_pretrained(self.source.location, **kwargs)
        model.eval()  # type: ignore[no-untyped-call]
        return model

    @property
    def dtype(self) -> str:
        if self.load_in_4bit:
            return "nf4"
        return "released" if self.base_model is None else str(self.base_model.dtype).removeprefix("torch.")

    def prepare(self, request: GenerateRequest) -> Prepared:
        """Validate the request against this model and tokenize it (raises SwitchboardError)."""
        chat = build_chat(request)
        if getattr(self.tokenizer, "chat_template", None):
            ids = self.tokenizer.apply_chat_template(
                [{"role": m.role, "content": m.content} for m in chat],
                add_generation_prompt=True,
                return_tensors="pt",
                return_dict=True,
            )["input_ids"]
        else:
            text = "\n".join(m.content for m in chat)
            ids = self.tokenizer(text, return_tensors="pt")["input_ids"]
        prompt_tokens = int(ids.shape[-1])
        room = self.context_length - prompt_tokens
        if room < 1:
            raise SwitchboardError(
                ErrorCode.CONTEXT_OVERFLOW,
                f"the prompt is {prompt_tokens} tokens but {self.source.model_id} reads at most "
                f"{self.context_length}; shorten the prompt or the conversation",
            )
        return Prepared(
            request_id=request.request_id,
            input_ids=ids,
            params=request.params,
            max_new_tokens=min(request.params.max_new_tokens, room),
            adapter=request.adapter,
        )

    def generate(self, job: Prepared, emit: Callable[[str], None]) -> Outcome:
        """Run one generation, calling `emit` with each new piece of text. Blocks; run it in a thread."""
        decoder = IncrementalDecoder(self.tokenizer)
        stops = StopStringFilter(job.params.stop)
        sink = _TokenSink(decoder, stops, emit, self.eos_ids)
        params = job.params
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
            if params.temperature > 0
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        if params.seed is not None:
            torch.manual_seed(params.seed)
        if self.model is not self.base_model:  # a PeftModel: choose the adapter per call, no shared state
            sampling["adapter_names"] = [job.adapter or BASE]
        input_ids = job.input_ids.to(self.model.device)
        with torch.inference_mode():
            self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=job.max_new_tokens,
                streamer=sink,
                stopping_criteria=StoppingCriteriaList([_Halt(job.cancel, stops)]),
                pad_token_id=self.pad_id,
                **sampling,
            )
        tail = stops.flush()
        if tail:
            emit(tail)
        if job.cancel.is_set():
            reason = FinishReason.CANCELLED
        elif stops.stopped:
            reason = FinishReason.STOP_STRING
        elif sink.saw_eos:
            reason = FinishReason.STOP
        else:
            reason = FinishReason.LENGTH
        return Outcome(finish_reason=reason, completion_tokens=sink.count)

    def load_adapter(self, name: str, folder: Path) -> None:
        """Apply a saved LoRA adapter under `name` (call with no generation running)."""
        from peft import PeftModel

        if self.model is self.base_model:
            self.model = PeftModel.from_pretrained(self.base_model, str(folder), adapter_name=name)
        else:
            self.model.load_adapter(str(folder), adapter_name=name)
        self.model.eval()

    def unload_adapter(self, name: str) -> None:
        """Remove an adapter's weights (call with no generation running)."""
        if self.model is self.base_model or name not in self.model.peft_config:
            return
        if len(self.model.peft_config) == 1:  # the last one: back to the plain model
            self.base_model = self.model.unload()
            self.model = self.base_model
        else:
            self.model.delete_adapter(name)

    def release(self) -> None:
        """Free the GPU for a fine-tuning job: drop the model and its adapters (no generation running)."""
        import gc

        self.model = self.base_model = None
        gc.collect()
        torch.cuda.empty_cache()

    def reclaim(self) -> None:
        """Load the model again after `release` (adapters are applied again by the caller)."""
        self.base_model = self._load_model()
        self.model = self.base_model

    def memory(self) -> dict[str, float]:
        if self.device != "cuda":
            return {}
        mb = 1024 * 1024
        return {
            "vram_total_mb": torch.cuda.get_device_properties(0).total_memory / mb,
            "vram_used_mb": torch.cuda.memory_allocated(0) / mb,
            "vram_reserved_mb": torch.cuda.memory_reserved(0) / mb,
        }


class _TokenSink(BaseStreamer):
    """Receives ids from `generate` (the prompt first, then one token per step)."""

    def __init__(
        self, decoder: IncrementalDecoder, stops: StopStringFilter, emit: Callable[[str], None], eos: set[int]
    ) -> None:
        self._decoder = decoder
        self._stops = stops
        self._emit = emit
        self._eos = eos
        self._prompt_seen = False
        self.count = 0
        self.saw_eos = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for token_id in value.reshape(-1).tolist():
            self.count += 1
            if token_id in self._eos:
                self.saw_eos = True
                continue
            text = self._stops.feed(self._decoder.push(int(token_id)))
            if text:
                self._emit(text)

    def end(self) -> None:
        return None


class _Halt(StoppingCriteria):
    """Stops generation within one token of a cancel or a stop string."""

    def __init__(self, cancel: threading.Event, stops: StopStringFilter) -> None:
        self._cancel = cancel
        self._stops = stops

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        halt = self._cancel.is_set() or self._stops.stopped
        return torch.full((input_ids.shape[0],), halt, dtype=torch.bool, device=input_ids.device)
