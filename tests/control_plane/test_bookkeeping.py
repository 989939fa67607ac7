"""The history an applied decision leaves behind, as the scaler and the simulator both keep it."""

from __future__ import annotations

from lambdas.control_plane.bookkeeping import (
    apply_record,
    decision_record,
    history_from,
    undo_record,
)
from lambdas.control_plane.decision import Decision, Path, Placement, Reason, Trigger, snapshot
from lambdas.control_plane.state import ComponentState

OUT = Decision(4, 2, Reason.SCALE_OUT, True, 258.0, Placement(0, 2, 2, Path.CACHED))
IN = Decision(3, 4, Reason.SCALE_IN, True)


def test_a_scale_out_starts_its_cooldown_and_a_pending_scale_out() -> None:
    seen = snapshot(Trigger.SCALE_OUT, True, [13.0], 2, 2, instances=2)
    row = apply_record(ComponentState("chat"), decision_record(OUT, seen, 100.0))
    assert (row.scaler_copies, row.pending_target, row.pending_path) == (4, 4, "cached")
    assert (row.pending_since, row.pending_instances) == (100.0, 2)
    history = history_from(row)
    assert (history.last_scale_out_at, history.last_scale_in_at) == (100.0, None)


def test_a_scale_in_starts_its_cooldown_and_drops_the_pending_scale_out() -> None:
    out = snapshot(Trigger.SCALE_OUT, True, [13.0], 2, 2, instances=2)
    row = apply_record(ComponentState("chat"), decision_record(OUT, out, 100.0))
    quiet = snapshot(Trigger.SCALE_IN, True, [0.5] * 10, 4, 4)
    row = apply_record(row, decision_record(IN, quiet, 900.0))
    assert (row.scaler_copies, row.pending_target, row.pending_since) == (3, None, None)
    assert history_from(row).last_scale_in_at == 900.0
    assert history_from(row).last_scale_out_at == 100.0


def test_an_undo_puts_back_exactly_what_the_row_held() -> None:
    before = ComponentState("chat", scaler_copies=2, last_scale_in_at=50.0)
    seen = snapshot(Trigger.SCALE_OUT, True, [13.0], 2, 2)
    after = apply_record(before, decision_record(OUT, seen, 100.0))
    assert apply_record(after, undo_record(before)) == before
