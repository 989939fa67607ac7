"""The tracker's timing of a finished scale-out, one rule for the Lambda and the simulator."""

from __future__ import annotations

from lambdas.control_plane.bookkeeping import (
    PENDING_FIELDS,
    apply_timing,
    history_from,
    time_scale_out,
)
from lambdas.control_plane.state import ComponentState


def pending(**values: object) -> ComponentState:
    base = {
        "pending_since": 1000.0,
        "pending_target": 3,
        "pending_path": "cached",
        "pending_instances": 2,
    }
    base.update(values)
    return ComponentState("chat", **base)  # type: ignore[arg-type]


def test_copies_still_arriving_are_not_timed() -> None:
    assert time_scale_out(pending(), 2, 3, True, 1270.0) is None


def test_a_finished_scale_out_on_a_new_instance_is_smoothed_halfway() -> None:
    # Given 250 s remembered for the cached path, when 3 copies serve at 1270 on a third instance
    row = pending(observed_ready_s={"cached": 250.0})
    timed = time_scale_out(row, 3, 3, True, 1270.0)
    # Then it took 270 s, and 260 s is remembered
    assert timed is not None
    assert (timed.seconds, timed.path, timed.remembered, timed.since) == (
        270.0,
        "cached",
        260.0,
        1000.0,
    )
    # And the table's change and the in-memory row agree: the time kept, the pending gone
    record = timed.record(1270.0)
    assert record.values == {"ready_s_cached": 260.0, "ready_at_cached": 1270.0}
    assert set(record.remove) == set(PENDING_FIELDS)
    after = history_from(apply_timing(row, timed, 1270.0))
    assert after.observed_ready_s == {"cached": 260.0}
    assert after.observed_ready_at == {"cached": 1270.0}


def test_no_new_instance_means_the_copies_took_free_slots() -> None:
    timed = time_scale_out(pending(), 3, 2, True, 1076.0)
    assert timed is not None and (timed.path, timed.seconds) == ("warm_instance", 76.0)
