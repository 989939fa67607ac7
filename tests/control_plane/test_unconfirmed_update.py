"""An update call that failed when SageMaker cannot be read afterwards either: whether the copies
changed is unknown (docs/control-plane.md, "Failure modes"). A scale-in keeps its record, so its
cooldown holds, and is looked at again soon; a scale-out's record is put back and the error
takes the function's failure path."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.control_plane import aws, followups, scaler
from lambdas.control_plane.decision import Trigger
from tests.helpers import CONTEXT, World, alarm_event, emf_metrics


def fail_the_update_and_the_reread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The update call times out without applying anything, and every describe after it fails."""
    describe = aws.describe_component
    failed: list[bool] = []

    def update_timed_out(sagemaker: Any, name: str, copies: int) -> None:
        failed.append(True)
        raise TimeoutError("Read timeout on endpoint URL")

    def describe_unless_failed(sagemaker: Any, name: str) -> aws.ComponentObservation:
        if failed:
            raise ConnectionError("Could not connect to the endpoint URL")
        return describe(sagemaker, name)

    monkeypatch.setattr(aws, "set_copy_count", update_timed_out)
    monkeypatch.setattr(aws, "describe_component", describe_unless_failed)


def test_a_scale_in_of_unknown_outcome_keeps_its_cooldown_and_looks_again(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.set_copies("chat-a", 4)
    fail_the_update_and_the_reread(monkeypatch)
    quiet = [0.5] * 10
    out = scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_IN, "ALARM", quiet, timestamp="t-1", period_s=60),
        CONTEXT,
    )
    assert out["action"] == "deferred" and out["reason"] == "Unconfirmed"
    assert world.reevaluations()[-1].delay_s == followups.BUSY_RETRY_S
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and row["scaler_copies"]["N"] == "3" and "last_scale_in_at" in row
    errors = [m for m in emf_metrics(capsys.readouterr().out) if m["name"] == "ScalingErrors"]
    assert len(errors) == 1
    # SageMaker answers again and the copies did not go: the recorded cooldown still holds.
    monkeypatch.undo()
    world.clock.advance(60)
    again = scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_IN, "ALARM", quiet, timestamp="t-2", period_s=60),
        CONTEXT,
    )
    assert again["reason"] == "Cooldown" and world.copies("chat-a")[0] == 4


def test_a_scale_out_of_unknown_outcome_is_put_back_and_raised(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_copies("chat-a", 2)
    fail_the_update_and_the_reread(monkeypatch)
    with pytest.raises(TimeoutError):
        scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and "scaler_copies" not in row and "last_scale_out_at" not in row
    assert world.copies("chat-a")[0] == 2
