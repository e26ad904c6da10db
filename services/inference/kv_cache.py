"""The batch's KV cache: one transformers `DynamicCache` for all rows, left-padded so every row ends at the
last column, with a 0/1 attention mask `[rows, columns]` saying which columns hold a row's real tokens.

Rows join (another cache is left-padded to the same width and concatenated) and leave (their rows are
dropped, then the leading columns that no remaining row uses are cut) between decode steps. Keys and values
of every layer have the shape `[rows, kv_heads, columns, head_dim]`.

The batch's layers are `GrowingLayer`s: a decode step writes its column into spare room instead of copying
the whole cache (`DynamicLayer.update` concatenates: at 16 rows and 540 columns a decode step of the bundled
model in float32 took 348 ms that way and 287 ms growing in place, on the 2-core development machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


@dataclass
class PaddedCache:
    """A cache and its mask; `columns` is the cache's length, the same for every row."""

    cache: Any  # DynamicCache
    mask: torch.Tensor  # [rows, columns], int64, 1 where a row has a real token

    @property
    def rows(self) -> int:
        return int(self.mask.shape[0])

    @property
    def columns(self) -> int:
        return int(self.mask.shape[1])

    def nbytes(self) -> int:
        """Memory the keys and values hold now, in bytes."""
        return sum(
            layer.nbytes if isinstance(layer, GrowingLayer) else int(layer.keys.nbytes + layer.values.nbytes)
            for layer in _layers(self.cache)
        )


def supported(cache: Any) -> bool:
    """Whether rows of this cache can be joined and dropped here (plain full-attention layers only: sliding
    windows and quantized caches keep columns in other layouts)."""
    plain = (DynamicLayer, GrowingLayer)
    return isinstance(cache, DynamicCache) and all(type(layer) in plain for layer in cache.layers)


def _replace(cache: Any, old: Any, keys: torch.Tensor, values: torch.Tensor) -> None:
    cache.layers[cache.layers.index(old)] = GrowingLayer(keys, values)


ROOM_COLUMNS = 128  # spare columns a GrowingLayer allocates at a time (a copy every 128 decode steps)


class GrowingLayer(DynamicLayer):  # type: ignore[no-untyped-call]
    """A `DynamicLayer` whose keys and values are views into buffers with spare columns; `update` writes in
    place and reallocates only when the room runs out."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.device = keys.device
        self.is_initialized = True
        self._hold(keys, values, ROOM_COLUMNS)

    def _hold(self, keys: torch.Tensor, values: torch.Tensor, room: int) -> None:
        used = keys.shape[-2]
        shape = (*keys.shape[:-2], used + room, keys.shape[-1])
        self._key_buffer = keys.new_empty(shape)
        self._value_buffer = values.new_empty(shape)
        self._key_buffer[..., :used, :] = keys
        self._value_buffer[..., :used, :] = values
        self._used = used
        self.keys = self._key_buffer[..., :used, :]
        self.values = self._value_buffer[..., :used, :]

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.keys is not None and self.values is not None
        new = key_states.shape[-2]
        if self._used + new > self._key_buffer.shape[-2]:
            self._hold(self.keys, self.values, ROOM_COLUMNS + new)
        end = self._used + new
        self._key_buffer[..., self._used : end, :] = key_states
        self._value_buffer[..., self._used : end, :] = value_states
        self._used = end
        self.keys = self._key_buffer[..., :end, :]
        self.values = self._value_buffer[..., :end, :]
        return self.keys, self.values

    @property
    def nbytes(self) -> int:
        return int(self._key_buffer.nbytes + self._value_buffer.nbytes)


def _layers(cache: Any) -> list[Any]:
    """The cache's layers that hold keys and values (`DynamicLayer`s)."""
    return [layer for layer in cache.layers if layer.is_initialized]


def _left_pad(tensor: torch.Tensor, columns: int, dim: int) -> torch.Tensor:
    missing = columns - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


def join(batch: PaddedCache | None, new: PaddedCache) -> PaddedCache:
    """`batch` with the rows of `new` appended (after them, in order), its layers `GrowingLayer`s. `new` is
    consumed."""
    if batch is None or batch.rows == 0:
        for layer in _layers(new.cache):
            _replace(new.cache, layer, layer.keys, layer.values)
        return new
    columns = max(batch.columns, new.columns)
    for old_layer, new_layer in zip(_layers(batch.cache), _layers(new.cache), strict=True):
        keys = torch.cat([_left_pad(old_layer.keys, columns, -2), _left_pad(new_layer.keys, columns, -2)])
        values = torch.cat([_left_pad(old_layer.values, columns, -2), _left_pad(new_layer.values, columns, -2)])
        _replace(batch.cache, old_layer, keys, values)
    batch.mask = torch.cat([_left_pad(batch.mask, columns, 1), _left_pad(new.mask, columns, 1)])
    return batch


def keep(batch: PaddedCache, rows: list[int]) -> PaddedCache:
    """Only `rows` (indices, in the order given) stay; columns no remaining row uses are cut from the left."""
    index = torch.tensor(rows, dtype=torch.long, device=batch.mask.device)
    mask = batch.mask.index_select(0, index)
    used = torch.nonzero(mask.any(dim=0))
    start = int(used[0].item()) if used.numel() else mask.shape[1]
    for layer in _layers(batch.cache):
        keys = layer.keys.index_select(0, index.to(layer.keys.device))[..., start:, :]
        values = layer.values.index_select(0, index.to(layer.values.device))[..., start:, :]
        _replace(batch.cache, layer, keys, values)
    batch.mask = mask[:, start:]
    return batch


def bytes_per_token(config: Any, element_size: int) -> int:
    """Bytes of keys and values one token takes in every layer: layers x 2 x kv_heads x head_dim x element
    size (the model's config; `head_dim` where the config has it, else hidden_size / heads)."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    heads = int(text.num_attention_heads)
    kv_heads = int(getattr(text, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(text, "head_dim", None) or text.hidden_size // heads)
    return int(text.num_hidden_layers) * 2 * kv_heads * head_dim * element_size
