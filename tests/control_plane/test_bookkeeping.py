"""The history an applied decision leaves behind, as the scaler and the simulator both keep it."""

from __future__ import annotations

from lambdas.control_plane.bookkeeping import (
    MAX_BURST_STARTS,
    apply_record,
    decision_record,
    forecast_record,
    history_from,
    parse_burst_starts,
    undo_record,
)
from lambdas.control_plane.component_row import prefixed_numbers
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


def test_the_forecasters_record_gives_a_floor_for_two_intervals_and_the_bursts() -> None:
    record = forecast_record(5, [1300.0, 700.0, 100.0, float("nan")], 1000.0, 300)
    row = apply_record(ComponentState("chat"), record)
    history = history_from(row)
    assert (history.forecast_floor_copies, history.forecast_floor_until) == (5, 1600.0)
    assert history.burst_starts == (100.0, 700.0, 1300.0)  # oldest first, the NaN left out


def test_only_the_latest_burst_starts_are_kept() -> None:
    starts = [600.0 * k for k in range(MAX_BURST_STARTS + 5)]
    row = apply_record(ComponentState("chat"), forecast_record(1, starts, 0.0, 300))
    assert history_from(row).burst_starts == tuple(starts[-MAX_BURST_STARTS:])


def test_a_hand_edited_burst_list_loses_only_its_bad_words() -> None:
    assert parse_burst_starts("100 x 700 inf") == (100.0, 700.0)
    assert parse_burst_starts(None) == ()


def test_observed_ready_times_and_when_they_were_seen_come_back_by_path() -> None:
    item = {"ready_s_cached": 300.0, "ready_at_cached": 5.0, "ready_at_x": "no", "other": 1}
    assert prefixed_numbers(item, "ready_at_") == {"cached": 5.0}
    row = ComponentState(
        "chat", observed_ready_s={"cached": 300.0}, observed_ready_at={"cached": 5.0}
    )
    history = history_from(row)
    assert (history.observed_ready_s, history.observed_ready_at) == (
        {"cached": 300.0},
        {"cached": 5.0},
    )
