"""Which fields a client selected: for answers whose shape depends on it (progress events only for those who ask)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def selects(info: Info[Any, Any], name: str, deep: bool = False) -> bool:
    """True when the resolved field's selection names `name` (a GraphQL field name, e.g. `stage`), directly or
    through a fragment, or with `deep` at any depth (`choices { logprobs }`). `@skip`/`@include` are not
    evaluated: a field under them counts as selected."""
    return any(_names(field.selections, name, deep) for field in info.selected_fields)


def _names(selections: Iterable[Selection], name: str, deep: bool) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name or (deep and _names(selection.selections, name, deep)):
                return True
        elif isinstance(selection, (FragmentSpread, InlineFragment)) and _names(selection.selections, name, deep):
            return True
    return False
