"""Real LoRA adapters for tests: peft adapters with random (non-zero) weights on the bundled model,
stored the way the registry and training store them (KV `adapters`, Object Store `adapter-files`)."""

from __future__ import annotations

from pathlib import Path

from nats.aio.client import Client

from messages import ActivateAdapter, AdapterMeta, DeactivateAdapter, RegisterAdapter, encode, subjects
from messages.adapters import utc_timestamp
from services.runtime import BUNDLED_MODEL_ID
from services.runtime.adapter_files import pack


def make_lora(base_folder: Path, out: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(base, config)
    model.save_pretrained(out)
    return out


async def set_active(nc: Client, name: str | None) -> None:
    """Choose the default adapter through the registry, as loadAdapter / useBaseModel do."""
    if name is None:
        reply = await nc.request(subjects.ADAPTERS_DEACTIVATE, encode(DeactivateAdapter()), timeout=5)
    else:
        reply = await nc.request(subjects.ADAPTERS_ACTIVATE, encode(ActivateAdapter(name=name)), timeout=5)
    assert b'"error"' not in reply.data, reply.data


async def register_adapter(nc: Client, name: str, folder: Path, base_model: str = BUNDLED_MODEL_ID) -> None:
    """Upload the files, then register through the registry (`svc.adapters.register`), as training does."""
    objects = await nc.jetstream().object_store(subjects.ADAPTER_FILES_BUCKET)
    data = pack(folder)
    await objects.put(name, data)
    meta = AdapterMeta(
        name=name, base_model=base_model, created=utc_timestamp(), dataset="test", steps=1, size_bytes=len(data)
    )
    reply = await nc.request(subjects.ADAPTERS_REGISTER, encode(RegisterAdapter(meta=meta)), timeout=5)
    assert b'"error"' not in reply.data, reply.data
