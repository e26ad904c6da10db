"""The inference actor before `start`: its parts do not exist yet, and asking for one says so (UNAVAILABLE)
instead of failing an assert; stopping an actor that never started does nothing."""

from __future__ import annotations

import pytest

from messages import ErrorCode, SwitchboardError
from services.inference import InferenceActor, InferenceConfig
from services.inference.state import NotStarted
from services.runtime import Settings


def test_a_part_asked_for_before_start_is_unavailable() -> None:
    with pytest.raises(SwitchboardError) as caught:
        _ = NotStarted().core
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert not hasattr(NotStarted(), "__wrapped__")  # Python's own look-ups still get AttributeError


async def test_stopping_an_actor_that_never_started_does_nothing() -> None:
    actor = InferenceActor(Settings(), InferenceConfig(warm_up=False))
    await actor.stop()
