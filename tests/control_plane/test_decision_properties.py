"""Invariants of the pure decision, over generated policies and observations."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from lambdas.control_plane.copy_model import CopyModel
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
def copy_models(draw: st.DrawFn) -> CopyModel:
    """Copies that slow by up to 20 % per extra request (throughput still rises with load)."""
    slots = draw(st.integers(1, 16))
    alone = draw(st.floats(0.2, 5.0))
    prefill = draw(st.floats(0.01, 0.9)) * alone
    slowdown = draw(st.floats(0.0, 0.2))
    factors = [1 + slowdown * n for n in range(slots)]
    return CopyModel(slots, tuple(prefill * f for f in factors), tuple(alone * f for f in factors))


@st.composite
def rules(draw: st.DrawFn, spec: ScalingSpec) -> ScalingSpec:
    """``spec`` with any of the SLO, lookahead, headroom, forecast and burst rules on."""
    return replace(
        spec,
        copy_model=draw(st.none() | copy_models()),
        slo_ttft_s=draw(st.floats(0.5, 10.0)),
        slo_attainment=draw(st.floats(0.5, 0.999)),
        lookahead_max_growth=draw(st.none() | st.floats(1.0, 4.0)),
        headroom_copies=draw(st.integers(0, 3)),
        headroom_percent=draw(st.floats(0.0, 100.0)),
        forecast_interval_s=draw(st.none() | st.just(300)),
        burst_hold_probability=draw(st.none() | st.floats(0.05, 1.0)),
    )


@st.composite
def specs(draw: st.DrawFn) -> ScalingSpec:
    spec = draw(threshold_specs())
    return draw(rules(spec)) if draw(st.booleans()) else spec


@st.composite
def threshold_specs(draw: st.DrawFn) -> ScalingSpec:
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
        window=tuple(draw(st.lists(st.floats(0.0, 200.0), max_size=4))),
        arrival_rate_per_s=draw(st.none() | st.floats(0.0, 100.0)),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[ScalingSpec, Snapshot, History]:
    spec = draw(specs())
    paths = ["warm_instance", "cached", "uncached"]
    history = History(
        last_scale_out_at=draw(st.none() | st.floats(NOW - 3600, NOW)),
        last_scale_in_at=draw(st.none() | st.floats(NOW - 3600, NOW)),
        complete=draw(st.booleans()),
        observed_ready_s=draw(st.dictionaries(st.sampled_from(paths), st.floats(1.0, 2000.0))),
        observed_ready_at=draw(
            st.dictionaries(st.sampled_from(paths), st.floats(NOW - 30 * 86400, NOW + 60))
        ),
        forecast_floor_copies=draw(st.none() | st.integers(0, 40)),
        forecast_floor_until=draw(st.none() | st.floats(NOW - 600, NOW + 600)),
        burst_starts=tuple(sorted(draw(st.lists(st.floats(NOW - 7200, NOW), max_size=8)))),
    )
    return spec, draw(snapshots(spec)), history


@st.composite
def quiet_cases(draw: st.DrawFn) -> tuple[ScalingSpec, Snapshot, History]:
    """Scale-in cases that get past every guard (full window under the threshold, every copy
    serving, no cooldown, history read), so the step and the floors decide."""
    spec, snapshot, history = draw(cases())
    desired = draw(st.integers(min(spec.min_copies + 1, spec.max_copies), spec.max_copies))
    quiet = replace(
        snapshot,
        trigger=Trigger.SCALE_IN,
        alarm_in_alarm=True,
        concurrency_per_copy=draw(st.floats(0.0, spec.scale_in_threshold)),
        datapoints=spec.scale_in_datapoints,
        desired_copies=desired,
        current_copies=desired,
    )
    past = replace(history, complete=True, last_scale_in_at=None, last_scale_out_at=None)
    return spec, quiet, past


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
    if inside.trigger in (Trigger.SCALE_OUT, Trigger.SURGE):
        # One decision never asks for more than max_step_copies on top of what was asked for,
        # whatever the SLO, the lookahead or the headroom say.
        assert decision.target_copies - inside.desired_copies <= spec.max_step_copies
    if inside.trigger is Trigger.SCALE_IN:
        # One step at a time, whatever SLO sizing says.
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
        trigger=snapshot.trigger if snapshot.trigger is Trigger.SURGE else Trigger.SCALE_OUT,
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


@given(cases())
def test_the_rules_never_ask_for_less_than_the_threshold_rules(
    case: tuple[ScalingSpec, Snapshot, History],
) -> None:
    """Scale-out with SLO sizing, lookahead and headroom on is at least what the alarms'
    threshold rules alone ask for: the rules only ever add capacity on the way out."""
    spec, snapshot, history = case
    out = replace(
        snapshot,
        trigger=Trigger.SCALE_OUT,
        alarm_in_alarm=True,
        desired_copies=min(max(snapshot.desired_copies, spec.min_copies), spec.max_copies),
    )
    plain = replace(spec, copy_model=None, lookahead_max_growth=None)
    with_rules = decide(out, spec, history, NOW).target_copies
    assert with_rules >= decide(out, plain, history, NOW).target_copies
    assert with_rules <= spec.max_copies


@given(quiet_cases())
def test_scale_in_keeps_the_forecast_floor_the_midpoint_and_min(
    case: tuple[ScalingSpec, Snapshot, History],
) -> None:
    """Scale-in never goes below min_copies, below the copies that keep the window's demand
    under the thresholds' midpoint, or below a valid forecast floor."""
    spec, snapshot, history = case
    inside = replace(
        snapshot,
        trigger=Trigger.SCALE_IN,
        alarm_in_alarm=True,
        desired_copies=min(max(snapshot.desired_copies, spec.min_copies), spec.max_copies),
    )
    decision = decide(inside, spec, history, NOW)
    if not decision.changes:
        return
    assert decision.target_copies >= spec.min_copies
    value = inside.concurrency_per_copy
    assert value is not None
    midpoint = (spec.scale_in_threshold + spec.scale_out_threshold) / 2
    demand = value * inside.current_copies
    assert decision.target_copies * midpoint >= demand - 1e-9
    floor, until = history.forecast_floor_copies, history.forecast_floor_until
    valid = until is not None and until > NOW and spec.forecast_interval_s is not None
    if valid and floor is not None:
        assert decision.target_copies >= min(floor, spec.max_copies, inside.desired_copies)


@given(quiet_cases())
def test_scale_in_steps_are_bounded(case: tuple[ScalingSpec, Snapshot, History]) -> None:
    spec, snapshot, history = case
    decision = decide(snapshot, spec, history, NOW)
    assert snapshot.desired_copies - decision.target_copies <= spec.scale_in_step_copies
    assert decision.target_copies <= snapshot.desired_copies
