"""Failure paths of the scaler against moto: what stays recorded when a call fails midway."""

from __future__ import annotations

import pytest

from lambdas.control_plane import aws, scaler
from lambdas.control_plane.decision import Trigger
from localaws.testing import World, alarm_event


def test_an_unexpected_update_error_puts_the_recorded_intent_back(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.set_copies("chat-a", 2)

    def broken(sagemaker: object, component: str, copies: int) -> None:
        raise RuntimeError("connection reset")

    monkeypatch.setattr(aws, "set_copy_count", broken)
    with pytest.raises(RuntimeError, match="connection reset"):
        scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]))
    # No copies were added, so neither the target nor the cooldown may stay recorded.
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None
    assert "scaler_copies" not in row and "last_scale_out_at" not in row
    assert world.copies("chat-a")[0] == 2
