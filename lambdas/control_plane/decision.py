"""The scaling decision: a pure function of what was observed, the policy and the past.

``decide(snapshot, spec, history, now)`` has no clock, no I/O and no AWS client: the scaler
Lambda calls it with what it loaded from CloudWatch, SageMaker and the state table, and the
simulator calls the very same function with simulated observations. A Lambda remembers nothing
between invocations, so everything about the past arrives in ``History``.

The rules (worked numbers in docs/control-plane.md):

* Scale-out asks for the larger of two targets. Demand-sized: the copies that bring the
  in-flight requests back to the threshold, ceil(value x serving / threshold), as target
  tracking computes it. Breach-sized: a step adjustment by how far the metric is over, so that a
  fast-growing spike gets headroom. With a threshold of 8 per copy and steps {0: +50 %,
  0.5: +100 %, 1.0: +200 %}, 2 serving copies at 13 per copy (62 % over) need ceil(26 / 8) = 4
  and the step adds 100 % of 2: target 4. One copy at 96 per copy (a 12x spike) needs 12, the
  step gives 3: target 12. At most ``max_step_copies`` are added above the copies already
  asked for in one decision (reason ``ScaleUpLimit``); the next re-evaluation adds more.
* Capacity already added counts (Application Auto Scaling's scale-out cooldown): targets are
  computed from the copies that serve now, and only the part above the copies already asked
  for is added. 2 serving, 4 desired, the same breach again: target 4, nothing to do
  (``InFlight``).
* SLO sizing and lookahead (``targets.out_copies``): scale-out (and the surge alarm, decided
  the same way) asks for at least the copies that keep the SLO at the demand expected when the
  new copies serve, plus headroom; the caps above still apply (reasons ``SloSized``,
  ``Lookahead``, ``Surge``).
* Scale-in removes ``step_copies`` at a time, never while its cooldown (or scale-out's) runs,
  never while copies are still arriving, never on missing or partial data, and never so far that
  the remaining copies would sit above the midpoint of the two thresholds (that would flap),
  below the SLO-sized copies or below the forecaster's floor (``ForecastFloor``); it holds
  through a lull that recent bursts say ends within a cold start (``BurstHold``); one step at
  a time, whatever the SLO says (``targets``: two steps cost bursty traffic 7.5 points).
* From zero: ``NoCapacityInvocationFailures`` while no copy exists starts ``from_zero_copies``.
* The target is always clamped to ``[min_copies, max_copies]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from . import targets
from .inputs import History, Path, ReadyTimes, ScalingSpec, Snapshot, Step, Trigger, snapshot

__all__ = [
    "Decision",
    "History",
    "Path",
    "Placement",
    "ReadyTimes",
    "Reason",
    "ScalingSpec",
    "Snapshot",
    "Step",
    "Trigger",
    "clamp",
    "decide",
    "free_slots",
    "place",
    "snapshot",
    "step_copies",
]


class Reason(StrEnum):
    """Why the target is what it is (Kubernetes' HPA gives one with every recommendation)."""

    SCALE_OUT = "ScaleOut"
    SCALE_UP_LIMIT = "ScaleUpLimit"  # the step was cut to max_step_copies
    AT_MAX = "AtMax"
    IN_FLIGHT = "InFlight"  # copies already asked for cover the need
    SCALE_FROM_ZERO = "ScaleFromZero"
    SCALE_IN = "ScaleIn"
    AT_MIN = "AtMin"
    COOLDOWN = "Cooldown"  # scale-in blocked by a cooldown
    WITHIN_TARGET = "WithinTarget"
    NO_DATA = "NoData"
    PARTIAL_DATA = "PartialData"
    ALARM_NOT_IN_ALARM = "AlarmNotInAlarm"  # the alarm is back to OK: stop
    OUT_OF_BOUNDS = "OutOfBounds"  # desired copies outside min..max (a redeploy): clamp
    STATE_UNAVAILABLE = "StateUnavailable"  # history unreadable: scale-in fails closed
    SLO_SIZED = "SloSized"  # scale-out: the copies the SLO needs exceed the threshold rules'
    LOOKAHEAD = "Lookahead"  # the same, for the demand projected to when the copies serve
    SURGE = "Surge"  # scale-out on the surge alarm
    FORECAST_FLOOR = "ForecastFloor"  # scale-in stopped by the forecaster's floor
    FORECAST = "Forecast"  # the forecaster raised the count ahead of a predicted rise
    BURST_HOLD = "BurstHold"  # scale-in held: a burst is likely within a cold start


@dataclass(frozen=True)
class Placement:
    warm_instance_copies: int = 0
    new_instance_copies: int = 0
    new_instances: int = 0
    path: Path | None = None  # the slowest path used: it decides when the last copy serves


@dataclass(frozen=True)
class Decision:
    target_copies: int
    desired_copies: int  # before the decision
    reason: Reason
    valid: bool  # False when the data did not allow a decision (NoData, PartialData)
    predicted_ready_s: float | None = None
    placement: Placement = Placement()
    reevaluate_after_s: int | None = None  # while the alarm stays in ALARM
    detail: str = ""

    @property
    def changes(self) -> bool:
        return self.target_copies != self.desired_copies

    @property
    def delta(self) -> int:
        return self.target_copies - self.desired_copies


def clamp(value: int, spec: ScalingSpec) -> int:
    return max(spec.min_copies, min(spec.max_copies, value))


def step_copies(value: float, serving: int, spec: ScalingSpec) -> int:
    """Copies a breach of ``value`` adds to ``serving`` copies, before max_step_copies."""
    breach = (value - spec.scale_out_threshold) / spec.scale_out_threshold
    percent = 0
    for step in spec.steps:
        if breach >= step.breach:
            percent = step.add_percent
    return max(1, math.ceil(serving * percent / 100))


def place(
    new_copies: int,
    snapshot: Snapshot,
    spec: ScalingSpec,
    history: History,
    now: float | None = None,
) -> tuple[Placement, float | None]:
    """Where ``new_copies`` land and when the last of them serves.

    Free slots on running instances come first (the data cache makes them fastest); the rest
    need new instances, up to max_instances, whose path depends on this endpoint's image cache.
    With ``now`` the ready time weighs the observed timing by its age against the cold-start
    prior (``targets.expected_ready_s``); without, an observed timing replaces the prior.
    """
    if new_copies <= 0:
        return Placement(), None
    warm = min(new_copies, max(0, snapshot.free_copy_slots or 0))
    rest = new_copies - warm
    new_instances = math.ceil(rest / spec.copies_per_instance) if rest else 0
    if snapshot.instances is not None:
        new_instances = min(new_instances, max(0, spec.max_instances - snapshot.instances))
    cold_path = Path.CACHED if snapshot.image_cached else Path.UNCACHED
    path = cold_path if rest else Path.WARM_INSTANCE

    def ready(p: Path) -> float:
        if now is not None:
            return targets.expected_ready_s(p, spec, history, now)
        return float(history.observed_ready_s.get(p.value, spec.ready_s.for_path(p)))

    return Placement(warm, rest, new_instances, path), ready(path)


def free_slots(
    spec: ScalingSpec,
    instances: int | None,
    own_desired: int,
    others: Mapping[str, tuple[int, int]],
) -> int | None:
    """Copies of ``spec``'s component that fit on the running instances now (``None``: the
    instance count is unknown); the scaler's ``Snapshot.free_copy_slots``.

    Each copy of a component with ``copies_per_instance`` c takes 1/c of an instance. With 2
    instances, this component (c = 1) at 1 copy and another (c = 2) at 1 copy: 2 - 1 - 0.5 =
    0.5 instance free, floor(0.5 x 1) = 0 copies of this one fit.
    ``others`` maps each other component to (desired copies, copies per instance).
    """
    if instances is None:
        return None
    used = own_desired / spec.copies_per_instance + sum(
        copies / max(1, per) for copies, per in others.values()
    )
    return max(0, math.floor((instances - used) * spec.copies_per_instance + 1e-9))


def decide(snapshot: Snapshot, spec: ScalingSpec, history: History, now: float) -> Decision:
    """The copy count ``spec.component`` should have now, and why."""
    desired = snapshot.desired_copies
    if not snapshot.alarm_in_alarm:
        return _hold(desired, Reason.ALARM_NOT_IN_ALARM, "alarm left ALARM: stop re-evaluating")
    if desired != clamp(desired, spec):
        if clamp(desired, spec) < desired and not history.complete:
            # A clamp down is a scale-in: it fails closed like one, since without the table
            # it could not be recorded and its cooldown would be lost.
            return _hold(
                desired,
                Reason.STATE_UNAVAILABLE,
                f"desired {desired} above max_copies {spec.max_copies} but "
                "history unreadable: never scale in blind",
                spec.scale_in_cooldown_s,
                valid=False,
            )
        return _out(
            clamp(desired, spec),
            snapshot,
            spec,
            history,
            now,
            Reason.OUT_OF_BOUNDS,
            f"desired {desired} outside {spec.min_copies}..{spec.max_copies}",
        )
    if snapshot.trigger is Trigger.FROM_ZERO:
        return _from_zero(snapshot, spec, history, now)
    if snapshot.trigger in (Trigger.SCALE_OUT, Trigger.SURGE):
        return _scale_out(snapshot, spec, history, now)
    return _scale_in(snapshot, spec, history, now)


def raise_to(floor: int, snapshot: Snapshot, spec: ScalingSpec, history: History) -> Decision:
    """The forecaster's raise of the copies asked for to ``floor``, as a scale-out whose
    placement predicts the path the new copies take (the tracker files their timing under it).
    The Lambda (``forecast_raise``) and the simulator record the same decision."""
    placement, ready_s = place(floor - snapshot.desired_copies, snapshot, spec, history)
    return Decision(
        floor,
        snapshot.desired_copies,
        Reason.FORECAST,
        True,
        ready_s,
        placement,
        detail=f"forecast floor {floor} above {snapshot.desired_copies} asked for",
    )


def _hold(
    desired: int, reason: Reason, detail: str, after: int | None = None, valid: bool = True
) -> Decision:
    """No change: ``desired`` stays, for ``reason``; look again ``after`` s while in ALARM."""
    return Decision(desired, desired, reason, valid, reevaluate_after_s=after, detail=detail)


def _out(
    target: int,
    snapshot: Snapshot,
    spec: ScalingSpec,
    history: History,
    now: float,
    reason: Reason,
    detail: str,
) -> Decision:
    placement, ready_s = place(target - snapshot.desired_copies, snapshot, spec, history, now)
    return Decision(
        target,
        snapshot.desired_copies,
        reason,
        True,
        ready_s,
        placement,
        spec.scale_out_cooldown_s,
        detail,
    )


def _from_zero(snapshot: Snapshot, spec: ScalingSpec, history: History, now: float) -> Decision:
    desired = snapshot.desired_copies
    if desired > 0:
        after = spec.scale_out_cooldown_s
        return _hold(desired, Reason.IN_FLIGHT, f"{desired} copies already asked for", after)
    if snapshot.no_capacity_failures is not None and snapshot.no_capacity_failures <= 0:
        return _hold(desired, Reason.WITHIN_TARGET, "no NoCapacityInvocationFailures")
    target = clamp(max(spec.from_zero_copies, 1), spec)
    return _out(
        target,
        snapshot,
        spec,
        history,
        now,
        Reason.SCALE_FROM_ZERO,
        f"no copy and {snapshot.no_capacity_failures} failed invocations",
    )


def _scale_out(snapshot: Snapshot, spec: ScalingSpec, history: History, now: float) -> Decision:
    desired = snapshot.desired_copies
    value = snapshot.concurrency_per_copy
    after = spec.scale_out_cooldown_s
    if desired >= spec.max_copies:
        return _hold(desired, Reason.AT_MAX, f"at max_copies {spec.max_copies}", after)
    serving = max(snapshot.current_copies, 0)
    readable = value is not None
    if value is None:
        # The alarm saw a breach that we cannot read back: fail open with the smallest step.
        value = spec.scale_out_threshold
        why = "no datapoint readable; alarm in ALARM: smallest step"
    else:
        why = f"{value:.2f} per copy over {serving} copies vs threshold {spec.scale_out_threshold}"
    if value < spec.scale_out_threshold and serving > 0:
        return _hold(desired, Reason.WITHIN_TARGET, why, after)
    # Demand-sized: what target tracking would ask for. With no copy serving yet the copies
    # already asked for carry the demand once they arrive, so they are the base.
    base = serving if serving > 0 else max(desired, 1)
    needed = math.ceil(value * base / spec.scale_out_threshold)
    stepped = base + step_copies(value, base, spec)
    wanted = max(needed, stepped)
    reason = Reason.SURGE if snapshot.trigger is Trigger.SURGE else Reason.SCALE_OUT
    sized = None
    if readable:
        path = place(max(1, wanted - desired), snapshot, spec, history)[0].path
        sized = targets.out_copies(
            snapshot,
            spec,
            history,
            now,
            concurrency=value,
            serving=base,
            place_path=path or Path.WARM_INSTANCE,
        )
    if sized is not None and sized.copies > wanted:
        wanted = sized.copies
        reason = Reason.LOOKAHEAD if sized.projected else Reason.SLO_SIZED
    sizing = f"; {sized.describe()}" if sized is not None else ""
    target = wanted
    if target - desired > spec.max_step_copies:
        target, reason = desired + spec.max_step_copies, Reason.SCALE_UP_LIMIT
    if target > spec.max_copies:
        target, reason = spec.max_copies, Reason.AT_MAX
    target = clamp(target, spec)
    if target <= desired:
        cover = f"{why}; {desired} copies already asked for cover {wanted}{sizing}"
        return _hold(desired, Reason.IN_FLIGHT, cover, after)
    return _out(
        target,
        snapshot,
        spec,
        history,
        now,
        reason,
        f"{why}; demand needs {needed}, breach step gives {stepped}{sizing}",
    )


def _scale_in(snapshot: Snapshot, spec: ScalingSpec, history: History, now: float) -> Decision:
    desired = snapshot.desired_copies

    def hold(reason: Reason, detail: str, valid: bool = True) -> Decision:
        return _hold(desired, reason, detail, spec.scale_in_cooldown_s, valid)

    if not history.complete:
        return hold(
            Reason.STATE_UNAVAILABLE, "history unreadable: never scale in blind", valid=False
        )
    value = snapshot.concurrency_per_copy
    if value is None:
        return hold(Reason.NO_DATA, "no datapoint: never scale in blind", valid=False)
    if snapshot.datapoints < spec.scale_in_datapoints:
        return hold(
            Reason.PARTIAL_DATA,
            f"{snapshot.datapoints} of {spec.scale_in_datapoints} datapoints",
            valid=False,
        )
    if desired <= spec.min_copies:
        return hold(Reason.AT_MIN, f"at min_copies {spec.min_copies}")
    if value >= spec.scale_in_threshold:
        return hold(Reason.WITHIN_TARGET, f"{value:.2f} per copy >= {spec.scale_in_threshold}")
    if snapshot.current_copies != desired:
        return hold(Reason.IN_FLIGHT, f"{snapshot.current_copies} of {desired} copies serve")
    for label, at, cooldown in (
        ("scale-in", history.last_scale_in_at, spec.scale_in_cooldown_s),
        ("scale-out", history.last_scale_out_at, spec.scale_out_cooldown_s),
    ):
        if at is not None and now - at < cooldown:
            return hold(Reason.COOLDOWN, f"{label} cooldown: {cooldown - (now - at):.0f} s left")
    if targets.hold_for_burst(snapshot, spec, history, now):
        return hold(Reason.BURST_HOLD, "recent bursts: the next is likely within a cold start")
    # Keep the remaining copies below the midpoint of the two thresholds, at or above the
    # SLO-sized copies and the forecaster's floor.
    demand = value * snapshot.current_copies
    midpoint = (spec.scale_in_threshold + spec.scale_out_threshold) / 2
    floor = math.ceil(demand / midpoint) if demand > 0 else 0
    forecast = targets.forecast_floor(spec, history, now)
    kept = targets.in_floor(snapshot, spec, history, now)
    target = clamp(max(desired - spec.scale_in_step_copies, floor, kept), spec)
    if target >= desired:
        if forecast >= desired:
            return hold(Reason.FORECAST_FLOOR, f"forecast floor {forecast} until a peak passes")
        reason = Reason.SLO_SIZED if kept >= desired else Reason.WITHIN_TARGET
        return hold(reason, f"demand {demand:.1f} needs {max(floor, kept)} copies")
    return Decision(
        target,
        desired,
        Reason.SCALE_IN,
        True,
        reevaluate_after_s=spec.scale_in_cooldown_s,
        detail=f"{value:.2f} per copy < {spec.scale_in_threshold}; demand "
        f"{demand:.1f} keeps {target} "
        f"(SLO and forecast keep {kept}, step {spec.scale_in_step_copies})",
    )
