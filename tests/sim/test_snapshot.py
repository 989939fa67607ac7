"""The simulator and the scaler read an alarm's datapoints the same way (decision.snapshot)."""

from __future__ import annotations

from lambdas.control_plane import aws
from lambdas.control_plane.decision import Trigger, snapshot
from lambdas.control_plane.evaluation import snapshot_from


def test_each_trigger_reads_its_window_as_documented() -> None:
    window = [3.0, 12.0, 9.0]
    assert snapshot(Trigger.SCALE_OUT, True, window, 2, 2).concurrency_per_copy == 9.0
    assert snapshot(Trigger.SCALE_IN, True, window, 2, 2).concurrency_per_copy == 8.0
    from_zero = snapshot(Trigger.FROM_ZERO, True, window, 0, 0)
    assert (from_zero.no_capacity_failures, from_zero.concurrency_per_copy) == (12.0, None)
    assert snapshot(Trigger.SCALE_OUT, True, [], 2, 2).concurrency_per_copy is None


def test_the_scaler_builds_the_same_snapshot_as_the_simulator() -> None:
    observed = aws.ComponentObservation(
        "chat", "ep", "InService", desired_copies=3, current_copies=2
    )
    for trigger in Trigger:
        assert snapshot_from(trigger, True, (3.0, 12.0), observed, 2, 1, True) == snapshot(
            trigger, True, [3.0, 12.0], 3, 2, free_copy_slots=1, instances=2, image_cached=True
        )
