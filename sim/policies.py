"""The scaling policies the benchmark compares. Only the policy differs between runs.

AWS's configurations, each as AWS documents it (sources in docs/scaling-model.md, section 3):

* ``aws-target-tracking``: Application Auto Scaling target tracking on the high-resolution
  ``ConcurrentRequestsPerCopy`` (predefined
  ``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``): a high alarm of 3 of
  3 datapoints of 10 s over the target, a low alarm of 90 of 90 under 90 % of it, 300 s scale-out
  and scale-in cooldowns; container caching (automatic) and data caching
  (``DataCacheConfig.EnableCaching``).
* ``aws-target-tracking-tuned``: the same with ``DisableScaleIn`` and a separate step scale-in
  policy on the fleet file's own scale-in alarm (AWS documents the combination): the best a
  careful user can configure with Application Auto Scaling alone.
* ``aws-step-10s``: Application Auto Scaling step scaling on the fleet file's own 10 s scale-out
  alarm and step table (``PercentChangeInCapacity``) and its scale-in alarm: it separates
  "10 s alarms" from "a Lambda decides".
* ``aws-scheduled``: ``aws-target-tracking-tuned`` plus scheduled actions that raise the minimum
  copy count ahead of each hour by the copies that hour needed on the most recent day of the same
  kind: separate weekday and weekend schedules, as Application Auto Scaling's cron expressions
  allow (``cron(55 8 ? * MON-FRI *)``), so a Monday follows Friday and a Saturday the last
  Sunday (``sim.schedule``); with no such day yet it is the tuned policy.
* ``pre-caching``: the setup before container and data caching, as a historical reference:
  target tracking on the standard 1-minute ``InvocationsPerCopy`` (3 of 3 x 60 s over, 15 of 15
  under 90 %), every new instance pulls the image, every new copy downloads the model.
* ``project``: the fleet file's alarms invoking the scaler, which calls the same
  ``lambdas.control_plane.decision.decide`` the Lambda runs.

Every policy acts ``view.reaction_s`` after its alarm: one delay for all (``--reaction-s``).

Each policy has one main knob (``KNOBS``), which the benchmark sweeps for the frontiers: the
target (requests in flight per copy) for target tracking, the scale-out threshold for the step
policy and the project, with the scale-in threshold kept in the fleet file's ratio to it. For
``InvocationsPerCopy`` the target in flight becomes invocations per copy per minute by Little's
law: 8 in flight at 1.46 s each are 8 / 1.46 x 60 = 329.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial

from config.alarms import alarm_plans
from config.fleet import Model
from lambdas.control_plane.decision import Trigger

from .cloudwatch import AlarmSpec, MetricSeries, SeriesAlarm, alarm_spec
from .project import Project
from .protocol import ComponentView, Policy
from .schedule import HourlyPeaks
from .thresholds import with_thresholds

POLICIES = (
    "aws-target-tracking",
    "aws-target-tracking-tuned",
    "aws-scheduled",
    "aws-step-10s",
    "pre-caching",
    "project",
)

# Target tracking as Application Auto Scaling creates it for a high-resolution metric
# (aws-samples/sagemaker-genai-hosting-examples, scale_down_to_zero notebook): scale out after
# 3 datapoints of 10 s over the target, scale in after 90 datapoints (15 minutes) under 90 % of
# it; 3 x 60 s and 15 x 60 s with a standard 1-minute metric.
TT_HIGH_DATAPOINTS = 3
TT_LOW_WINDOW_S = 900
TT_LOW_FRACTION = 0.9
# Application Auto Scaling user guide, target tracking: cooldowns default to 300 s for scale-out
# and scale-in on SageMaker variants and inference components.
TT_COOLDOWN_S = 300
# Step scaling's cooldown when a policy sets none (API reference,
# StepScalingPolicyConfiguration.Cooldown: "If not specified, the default value is 300").
STEP_DEFAULT_COOLDOWN_S = 300

# knob name per policy, swept by the frontier (requests in flight per copy)
KNOBS = {
    "aws-target-tracking": "target",
    "aws-target-tracking-tuned": "target",
    "aws-scheduled": "target",
    "aws-step-10s": "threshold",
    "pre-caching": "target",
    "project": "threshold",
}

Execute = Callable[[ComponentView, float, bool], None]


def _latest(values: list[float | None]) -> float | None:
    for v in reversed(values):
        if v is not None:
            return v
    return None


def _fleet_alarm(model: Model, trigger: Trigger) -> AlarmSpec:
    """The fleet's own alarm for ``trigger`` (``config.alarms``), as the evaluator sees it."""
    return alarm_spec(next(p for p in alarm_plans(model) if p.trigger is trigger))


class AasAlarm:
    """An alarm driving an Application Auto Scaling policy: evaluated once per period, and while
    in ALARM the policy runs at every evaluation (not only on transitions), ``reaction_s`` later.
    """

    def __init__(self, spec: AlarmSpec, series: MetricSeries, execute: Execute):
        self.alarm = SeriesAlarm(spec, series)
        self.execute = execute

    def tick(self, view: ComponentView) -> None:
        now = view.now
        if not self.alarm.due(now):
            return
        self.alarm.update_at(now)
        if not self.alarm.in_alarm:
            return
        value = _latest(self.alarm.window(now))
        if value is not None:
            view.schedule(now + view.reaction_s, partial(self.execute, view, value, True))


class FromZeroStep:
    """Scale-out from zero as AWS documents it (endpoint-auto-scaling-zero-instances): a step
    policy on ``NoCapacityInvocationFailures`` adding copies; shared by every AWS baseline."""

    def __init__(self, model: Model, view: ComponentView):
        self.copies = model.scaling.from_zero.copies
        self.alarm = AasAlarm(
            _fleet_alarm(model, Trigger.FROM_ZERO),
            view.metrics["NoCapacityInvocationFailures"],
            self._execute,
        )

    def tick(self, view: ComponentView) -> None:
        self.alarm.tick(view)

    def _execute(self, view: ComponentView, value: float, _: bool) -> None:
        if view.desired == 0:
            view.set_desired(self.copies, "from zero")


class StepScaleIn:
    """A step scale-in policy on the fleet file's scale-in alarm: remove ``step_copies`` per
    execution, then wait the policy's cooldown (the fleet's ``scale_in.cooldown_s``)."""

    def __init__(self, model: Model, view: ComponentView, floor: Callable[[], int]):
        s = model.scaling.scale_in
        self.copies = s.step_copies
        self.cooldown_s = s.cooldown_s
        self.floor = floor
        self.last_at: float | None = None
        self.alarm = AasAlarm(
            _fleet_alarm(model, Trigger.SCALE_IN),
            view.metrics["ConcurrentRequestsPerCopy"],
            self._execute,
        )

    def tick(self, view: ComponentView) -> None:
        self.alarm.tick(view)

    def _execute(self, view: ComponentView, value: float, _: bool) -> None:
        if self.last_at is not None and view.now - self.last_at < self.cooldown_s:
            return
        target = max(view.desired - self.copies, self.floor())
        if target < view.desired:
            view.set_desired(target, f"step scale-in: {value:.1f} low")
            self.last_at = view.now


class TargetTracking:
    """Application Auto Scaling target tracking on a per-copy metric.

    Scale-out sets ``ceil(serving x metric / target)`` and only ever raises the desired count
    (capacity already added counts); scale-in waits its cooldown and for every copy to serve.
    ``disable_scale_in`` leaves scale-in to a separate step policy (``StepScaleIn``).
    """

    def __init__(
        self,
        name: str,
        *,
        target: float | None = None,
        invocations: bool = False,
        caches: bool = True,
        disable_scale_in: bool = False,
    ):
        self.name = name
        self.target_in_flight = target
        self.invocations = invocations
        self.container_cache = self.data_cache = caches
        self.disable_scale_in = disable_scale_in
        self.min_copies = 0  # raised by scheduled actions
        self.last_scale_in_at: float | None = None

    def attach(self, view: ComponentView) -> None:
        model = view.model
        in_flight = self.target_in_flight or model.scaling.scale_out.threshold
        if self.invocations:
            self.metric, period = "InvocationsPerCopy", 60
            self.target = in_flight / view.mean_service_s() * 60.0
        else:
            self.metric, period = "ConcurrentRequestsPerCopy", 10
            self.target = in_flight
        low_n = TT_LOW_WINDOW_S // period
        n = TT_HIGH_DATAPOINTS
        high = AlarmSpec(f"{self.name}-high", self.target, "GreaterThanThreshold", period, n, n)
        low = AlarmSpec(
            f"{self.name}-low",
            TT_LOW_FRACTION * self.target,
            "LessThanThreshold",
            period,
            low_n,
            low_n,
        )
        series = view.metrics[self.metric]
        self.high = AasAlarm(high, series, self._execute)
        self.low = AasAlarm(low, series, partial(self._execute_in))
        self.min_copies = model.min_copies
        self.from_zero = FromZeroStep(model, view)
        self.scale_in = StepScaleIn(model, view, lambda: self.min_copies)

    def on_tick(self, view: ComponentView) -> None:
        self.from_zero.tick(view)
        self.high.tick(view)
        if self.disable_scale_in:
            self.scale_in.tick(view)
        else:
            self.low.tick(view)

    def wanted(self, view: ComponentView, value: float) -> int:
        return math.ceil(max(view.serving, 1) * value / self.target - 1e-9)

    def _execute(self, view: ComponentView, value: float, _: bool) -> None:
        wanted = self.wanted(view, value)
        if wanted > view.desired:
            view.set_desired(wanted, f"target tracking: {value:.1f} > {self.target:.1f}")

    def _execute_in(self, view: ComponentView, value: float, _: bool) -> None:
        if self.last_scale_in_at is not None and view.now - self.last_scale_in_at < TT_COOLDOWN_S:
            return
        wanted = max(self.wanted(view, value), self.min_copies)
        if wanted < view.desired and view.serving == view.desired:
            view.set_desired(wanted, f"target tracking: {value:.1f} low")
            self.last_scale_in_at = view.now


class Scheduled(TargetTracking):
    """``aws-target-tracking-tuned`` plus scheduled actions raising the minimum copy count.

    A careful user reads the hourly peaks of requests in flight from CloudWatch and schedules,
    for each hour, a minimum of ``ceil(peak / target)`` copies starting one new instance's cold
    start (rounded up to the minute) before the hour, one cron schedule for weekdays and one for
    weekends: a weekday hour takes the peak of that hour on the most recent weekday, a weekend
    hour on the most recent weekend day (``sim.schedule``); outside those hours the fleet's
    minimum applies. Application Auto Scaling raises the desired count to a new minimum
    when it takes effect; scale-in never goes below it.
    """

    def attach(self, view: ComponentView) -> None:
        super().attach(view)
        self.peaks = HourlyPeaks(view)
        self.fleet_min = view.model.min_copies

    def on_tick(self, view: ComponentView) -> None:
        self.peaks.record(view)
        due = self.peaks.minimum_due(view.now, self.target)
        if due is not None:
            view.schedule(view.now + view.reaction_s, partial(self._set_min, view, due))
        super().on_tick(view)

    def _set_min(self, view: ComponentView, copies: int) -> None:
        self.min_copies = max(self.fleet_min, copies)
        if view.desired < self.min_copies:
            view.set_desired(self.min_copies, f"scheduled minimum {self.min_copies}")


class StepScaling:
    """Application Auto Scaling step scaling on the fleet's scale-out alarm and step table.

    ``PercentChangeInCapacity`` of the desired count, rounded as Application Auto Scaling does
    (a value between 0 and 1 becomes 1, a larger one is rounded down). During the scale-out
    cooldown, capacity the last scale-out added counts toward the next one. Scale-in is the
    fleet's scale-in alarm with a step policy (``StepScaleIn``).
    """

    name = "aws-step-10s"
    container_cache = True
    data_cache = True

    def __init__(self, threshold: float | None = None):
        self.threshold_knob = threshold

    def attach(self, view: ComponentView) -> None:
        model = view.model
        if self.threshold_knob is not None:
            model = with_thresholds(model, self.threshold_knob)
        s = model.scaling.scale_out
        self.threshold, self.steps, self.cooldown_s = s.threshold, s.steps, s.cooldown_s
        self.high = AasAlarm(
            _fleet_alarm(model, Trigger.SCALE_OUT),
            view.metrics["ConcurrentRequestsPerCopy"],
            self._execute,
        )
        self.from_zero = FromZeroStep(model, view)
        self.scale_in = StepScaleIn(model, view, lambda: model.min_copies)
        self.last_out_at: float | None = None
        self.capacity_before_out = 0
        self.added = 0

    def on_tick(self, view: ComponentView) -> None:
        self.from_zero.tick(view)
        self.high.tick(view)
        self.scale_in.tick(view)

    def _execute(self, view: ComponentView, value: float, _: bool) -> None:
        breach = (value - self.threshold) / self.threshold
        percent = max((x.add_percent for x in self.steps if breach >= x.breach), default=0)
        if not percent:
            return
        in_cooldown = self.last_out_at is not None and view.now - self.last_out_at < self.cooldown_s
        base = self.capacity_before_out if in_cooldown else view.desired
        add = base * percent / 100
        add = 1 if add < 1 else math.floor(add)
        if in_cooldown:
            if base + add > view.desired:
                view.set_desired(base + add, f"step: {value:.1f} (cooldown, added counts)")
            return
        self.capacity_before_out, self.last_out_at = view.desired, view.now
        view.set_desired(view.desired + add, f"step: {value:.1f} > {self.threshold:g}")


def make_policy(name: str, knob: Mapping[str, float] | None = None) -> Policy:
    """A fresh policy by name (``POLICIES``); ``knob`` sets its main knob (``KNOBS``), else the
    fleet file's own setting is used."""
    value = None
    if name not in KNOBS:
        raise ValueError(f"unknown policy {name!r}; allowed: {', '.join(POLICIES)}")
    if knob:
        allowed = KNOBS[name]
        unknown = [k for k in knob if k != allowed]
        if unknown:
            raise ValueError(f"policy {name!r} has no knob {unknown[0]!r}; allowed: {allowed}")
        value = float(knob[allowed])
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"policy {name!r}: {allowed} must be > 0; got {value!r}")
    if name == "aws-target-tracking":
        return TargetTracking(name, target=value)
    if name == "aws-target-tracking-tuned":
        return TargetTracking(name, target=value, disable_scale_in=True)
    if name == "aws-scheduled":
        return Scheduled(name, target=value, disable_scale_in=True)
    if name == "pre-caching":
        return TargetTracking(name, target=value, invocations=True, caches=False)
    if name == "aws-step-10s":
        return StepScaling(value)
    if name == "project":
        return Project(value)
    raise ValueError(f"unknown policy {name!r}; allowed: {', '.join(POLICIES)}")
