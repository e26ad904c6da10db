"""Choosing the default adapter through the registry. (Making and registering real LoRA adapters:
`services.runtime.testing.make_lora` and `register_adapter`, which the benches use too.)"""

from __future__ import annotations

from nats.aio.client import Client

from messages import ActivateAdapter, DeactivateAdapter, encode, subjects


async def set_active(nc: Client, name: str | None) -> None:
    """Choose the default adapter through the registry, as loadAdapter / useBaseModel do."""
    if name is None:
        reply = await nc.request(subjects.ADAPTERS_DEACTIVATE, encode(DeactivateAdapter()), timeout=5)
    else:
        reply = await nc.request(subjects.ADAPTERS_ACTIVATE, encode(ActivateAdapter(name=name)), timeout=5)
    assert b'"error"' not in reply.data, reply.data
