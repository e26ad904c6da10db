"""The model runner, as vLLM names it: the model on this worker, loading it (device, dtype), tokenizing
requests into `Job`s, applying LoRA adapters, lending the GPU.

Generating is the engine cores' job (`batched`, `sequential`); they share this object's model and tokenizer."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from messages import ErrorCode, FinishReason, GenerateRequest, GenerationParams, SwitchboardError, TokenLogprob
from services.runtime import ModelSource

from .decoding import TextStream
from .grammar import CompiledConstraint, Grammars
from .prompt import prompt_token_ids

BASE = "__base__"  # peft's name for "no adapter" in per-call adapter_names


@dataclass
class Job:
    """A validated request, tokenized and ready to run: what the engine core reads (vLLM's `Request`). What
    the actor keeps about it besides (adapter version, requester) is `intake.Generation`."""

    request_id: str
    input_ids: torch.Tensor
    params: GenerationParams
    max_new_tokens: int
    adapter_key: str | None = None  # the peft name of the adapter version to use (None: the base model)
    cancel: threading.Event = field(default_factory=threading.Event)
    admitted: float = field(default_factory=time.perf_counter)  # when it was prepared (time.perf_counter)
    grammar: CompiledConstraint | None = None  # structured output: every answer's tokens masked to it

    @property
    def prompt_tokens(self) -> int:
        return int(self.input_ids.shape[-1])

    @property
    def choices(self) -> int:
        """Answers to the prompt (`params.n`): rows of the batch after one prefill."""
        return self.params.n

    @property
    def wants_logprobs(self) -> bool:
        return self.params.logprobs or self.params.top_logprobs > 0


@dataclass(frozen=True)
class Outcome:
    """How one answer (choice `index`) ended. `logprobs`: the entries of its tokens whose text was never sent
    (text held back for a stop string; the end-of-turn token has none); None when the request did not ask."""

    finish_reason: FinishReason
    completion_tokens: int
    index: int = 0
    logprobs: list[TokenLogprob] | None = None


def pick_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def pick_dtype(setting: str, device: str) -> torch.dtype:
    """`INFERENCE_DTYPE`: `auto` is float16 on CUDA and float32 on CPU, where `bench.concurrency` measured
    float32 4-5x faster than bfloat16 for prefill and about 2x for batched decode on a CPU without bf16
    matrix units (README, Benchmarks). Raises SwitchboardError for an unknown name."""
    if setting == "auto":
        return torch.float16 if device == "cuda" else torch.float32
    if setting not in DTYPES:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"INFERENCE_DTYPE={setting!r}: use auto, {', '.join(DTYPES)}")
    return DTYPES[setting]


class ModelRunner:
    """Owns the tokenizer and the model (and its peft adapters); the engine cores run it on their own thread."""

    def __init__(self, source: ModelSource, *, load_in_4bit: bool, hf_token: str | None, dtype: str = "auto") -> None:
        self.source = source
        self.device = pick_device()
        self.load_in_4bit = load_in_4bit and self.device == "cuda"
        self.compute_dtype = pick_dtype(dtype, self.device)
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
        # the logits' width (config.vocab_size), which may pass the tokenizer's length (padded embeddings)
        vocab_size = int(self.base_model.config.get_text_config().vocab_size)
        self.grammars = Grammars(self.tokenizer, vocab_size, self.eos_ids)

    def _load_model(self) -> Any:
        kwargs: dict[str, Any] = {"token": self._hf_token}
        if self.device == "cuda":
            kwargs["device_map"] = {"": 0}
            if self.load_in_4bit:
                from transformers import BitsAndBytesConfig

                kwargs["quantization_config"] = BitsAndBytesConfig(  # type: ignore[no-untyped-call]
                    load_in_4bit=True,
                    bnb_4bit_quant_type="nf4",
                    bnb_4bit_compute_dtype=self.compute_dtype,
                    bnb_4bit_use_double_quant=True,
                )
            else:
                kwargs["dtype"] = self.compute_dtype
        else:
            kwargs["dtype"] = self.compute_dtype
        model = AutoModelForCausalLM.from_pretrained(self.source.location, **kwargs)
        model.eval()  # type: ignore[no-untyped-call]
        return model

    @property
    def dtype(self) -> str:
        if self.load_in_4bit:
            return "nf4"
        return "released" if self.base_model is None else str(self.base_model.dtype).removeprefix("torch.")

    @property
    def element_size(self) -> int:
        """Bytes of one KV cache element (the compute dtype's)."""
        return int(torch.empty((), dtype=self.compute_dtype).element_size())

    def text_stream(self, job: Job) -> TextStream:
        """The job's token-to-text state with its stop rules."""
        return TextStream(self.tokenizer, job.params.stop, self.eos_ids, job.max_new_tokens)

    def prepare(self, request: GenerateRequest) -> Job:
        """Validate the request against this model and tokenize it (raises SwitchboardError)."""
        ids = torch.tensor([prompt_token_ids(self.tokenizer, request)], dtype=torch.long)
        prompt_tokens = int(ids.shape[-1])
        room = self.context_length - prompt_tokens
        if room < 1:
            raise SwitchboardError(
                ErrorCode.CONTEXT_OVERFLOW,
                f"is {prompt_tokens} tokens long, but {self.source.model_id} reads at most "
                f"{self.context_length}; shorten it",
                "prompt" if request.messages is None else "messages",
            )
        return Job(
            request_id=request.request_id,
            input_ids=ids,
            params=request.params,
            max_new_tokens=min(request.params.max_new_tokens, room),
        )

    def load_adapter(self, name: str, folder: Path) -> None:
        """Apply a saved LoRA adapter under `name` (on the engine thread, between decode steps: requests already
        running keep their own adapters, named per row)."""
        from peft import PeftModel

        if self.model is self.base_model:
            self.model = PeftModel.from_pretrained(self.base_model, str(folder), adapter_name=name)
        else:
            self.model.load_adapter(str(folder), adapter_name=name)
        self.model.eval()

    def unload_adapter(self, name: str) -> None:
        """Remove an adapter's weights (on the engine thread, between steps, when no request uses it)."""
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
