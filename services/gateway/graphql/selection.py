"""Which fields a client selected: for answers whose shape depends on it (progress events only for those who ask)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def selects(info: Info[Any, Any], name: str) -> bool:
    """True when the resolved field's selection names `name` (a GraphQL field name, e.g. `stage`), directly or
    through a fragment. `@skip`/`@include` are not evaluated: a field under them counts as selected."""
    return any(_names(field.selections, name) for field in info.selected_fields)


def _names(selections: Iterable[Selection], name: str) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == name:
            return True
        if isinstance(selection, (FragmentSpread, InlineFragment)) and _names(selection.selections, name):
            return True
    return False
