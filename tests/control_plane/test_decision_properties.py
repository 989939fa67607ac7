"""Invariants of the pure decision, over generated policies and observations."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from lambdas.control_plane.decision import (
    History,
    ReadyTimes,
    ScalingSpec,
    Snapshot,
    Step,
    Trigger,
    decide,
)

NOW = 1_000_000.0


@st.composite
def specs(draw: st.DrawFn) -> ScalingSpec:
    min_copies = draw(st.integers(0, 4))
    max_copies = draw(st.integers(max(min_copies, 1), 32))
    out_threshold = draw(st.floats(1.0, 50.0))
    breaches = sorted(draw(st.lists(st.floats(0.0, 3.0), min_size=1, max_size=4, unique=True)))
    percents = sorted(
        draw(st.lists(st.integers(1, 400), min_size=len(breaches), max_size=len(breaches)))
    )
    return ScalingSpec(
        endpoint="ep",
        component="c",
        min_copies=min_copies,
        max_copies=max_copies,
        scale_out_threshold=out_threshold,
        scale_out_cooldown_s=draw(st.integers(10, 600)),
        steps=tuple(Step(b, p) for b, p in zip(breaches, percents, strict=True)),
        max_step_copies=draw(st.integers(1, 8)),
        scale_in_threshold=draw(st.floats(0.0, out_threshold * 0.9)),
        scale_in_cooldown_s=draw(st.integers(60, 1800)),
        scale_in_step_copies=draw(st.integers(1, 4)),
        scale_in_datapoints=draw(st.integers(1, 15)),
        from_zero_copies=draw(st.integers(1, 4)),
        copies_per_instance=draw(st.integers(1, 8)),
        max_instances=draw(st.integers(1, 16)),
        ready_s=ReadyTimes(30.0, 258.0, 525.0),
    )


@st.composite
def snapshots(draw: st.DrawFn, spec: ScalingSpec) -> Snapshot:
    desired = draw(st.integers(0, spec.max_copies + 3))
    return Snapshot(
        trigger=draw(st.sampled_from(list(Trigger))),
        alarm_in_alarm=draw(st.booleans()),
        concurrency_per_copy=draw(st.none() | st.floats(0.0, 200.0)),
        datapoints=draw(st.integers(0, 15)),
        desired_copies=desired,
        current_copies=draw(st.integers(0, desired + 2)),
        no_capacity_failures=draw(st.none() | st.floats(0.0, 100.0)),
        free_copy_slots=draw(st.none() | st.integers(0, 8)),
        instances=draw(st.none() | st.integers(0, 16)),
        image_cached=draw(st.none() | st.booleans()),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[ScalingSpec, Snapshot, History]:
    spec = draw(specs())
    history = History(
        last_scale_out_at=draw(st.none() | st.floats(NOW - 3600, NOW)),
        last_scale_in_at=draw(st.none() | st.floats(NOW - 3600, NOW)),
        complete=draw(st.booleans()),
    )
    return spec, draw(snapshots(spec)), history


@given(cases())
def test_a_changed_target_stays_within_min_and_max(
    case: tuple[ScalingSpec, Snapshot, History],
) -> None:
    spec, snapshot, history = case
    decision = decide(snapshot, spec, history, NOW)
    in_bounds = spec.min_copies <= snapshot.desired_copies <= spec.max_copies
    if decision.changes or (in_bounds and snapshot.alarm_in_alarm):
        assert spec.min_copies <= decision.target_copies <= spec.max_copies


@given(cases())
def test_no_scale_in_without_full_data_or_history(
    case: tuple[ScalingSpec, Snapshot, History],
) -> None:
    spec, snapshot, history = case
    blind = replace(
        snapshot,
        trigger=Trigger.SCALE_IN,
        alarm_in_alarm=True,
        desired_copies=min(max(snapshot.desired_copies, spec.min_copies), spec.max_copies),
    )
    for partial in (
        replace(blind, concurrency_per_copy=None),
        replace(blind, datapoints=min(blind.datapoints, spec.scale_in_datapoints - 1)),
    ):
        assert decide(partial, spec, history, NOW).target_copies >= partial.desired_copies
    unknown_past = replace(history, complete=False)
    assert decide(blind, spec, unknown_past, NOW).target_copies >= blind.desired_copies


@given(cases())
def test_steps_are_bounded(case: tuple[ScalingSpec, Snapshot, History]) -> None:
    spec, snapshot, history = case
    inside = replace(
        snapshot,
        alarm_in_alarm=True,
        desired_copies=min(max(snapshot.desired_copies, spec.min_copies), spec.max_copies),
    )
    decision = decide(inside, spec, history, NOW)
    if inside.trigger is Trigger.SCALE_OUT:
        # One decision never asks for more than max_step_copies on top of what was asked for.
        assert decision.target_copies - inside.desired_copies <= spec.max_step_copies
    if inside.trigger is Trigger.SCALE_IN:
        assert inside.desired_copies - decision.target_copies <= spec.scale_in_step_copies
    if inside.trigger is Trigger.FROM_ZERO:
        assert decision.target_copies <= max(
            inside.desired_copies, spec.from_zero_copies, spec.min_copies
        )


@given(cases(), st.floats(0.0, 200.0), st.floats(0.0, 200.0))
def test_scale_out_is_monotone_in_demand(
    case: tuple[ScalingSpec, Snapshot, History], a: float, b: float
) -> None:
    spec, snapshot, history = case
    low, high = sorted((a, b))
    base = replace(
        snapshot,
        trigger=Trigger.SCALE_OUT,
        alarm_in_alarm=True,
        desired_copies=min(max(snapshot.desired_copies, spec.min_copies), spec.max_copies),
    )
    target_low = decide(replace(base, concurrency_per_copy=low), spec, history, NOW)
    target_high = decide(replace(base, concurrency_per_copy=high), spec, history, NOW)
    assert target_low.target_copies <= target_high.target_copies


@given(cases())
def test_without_history_nothing_ever_scales_in_not_even_a_clamp_down(
    case: tuple[ScalingSpec, Snapshot, History],
) -> None:
    spec, snapshot, history = case
    # Desired above max_copies (an edited template) with the table unreadable: clamping down
    # would be a scale-in nobody could record, so the decision holds.
    above = replace(snapshot, alarm_in_alarm=True, desired_copies=spec.max_copies + 2)
    decision = decide(above, spec, replace(history, complete=False), NOW)
    assert decision.target_copies >= above.desired_copies
    assert (
        decide(above, spec, replace(history, complete=True), NOW).target_copies == spec.max_copies
    )
