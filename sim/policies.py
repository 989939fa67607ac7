"""The four scaling policies compared side by side. Only the policy differs between runs.

* ``legacy``: Application Auto Scaling target tracking on ``InvocationsPerCopy`` (predefined
  ``SageMakerInferenceComponentInvocationsPerCopy``, a standard 1-minute metric), and no
  container cache: every new instance pulls the image.
* ``aws-recommended``: target tracking on the high-resolution ``ConcurrentRequestsPerCopy``
  (``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``) with container
  caching (automatic) and data caching (``DataCacheConfig.EnableCaching``): AWS's current advice
  (AWS ML blog, "Introducing container caching in Amazon SageMaker AI for faster model scaling").
* ``aws-step-sample``: AWS's published step-scaling sample for inference components, an alarm on
  ``ConcurrentRequestsPerCopy`` with a 60 s period driving a ``ChangeInCapacity`` step policy.
* ``project``: this project's alarms (from the fleet file) invoking the scaler, which calls the
  same ``lambdas.control_plane.decision.decide`` the Lambda runs.

Target tracking, as documented in the Application Auto Scaling user guide ("Target tracking
scaling policies"; alarm shapes as in aws-samples/sagemaker-genai-hosting-examples'
scale_down_to_zero notebook): AAS creates a high alarm (metric > target, 3 of 3 datapoints: 30 s
with a 10 s metric, 3 minutes with a 1-minute one) and a low alarm (metric < 90 % of target, 15
minutes: 90 of 90 at 10 s, 15 of 15 at 60 s). While an alarm is in ALARM, AAS runs the policy at
every evaluation and sets capacity to ``ceil(serving_copies x metric / target)``; scale-out only
ever raises the desired count (capacity already added counts), scale-in waits for its cooldown.
Cooldowns are 300 s each, the Application Auto Scaling default, which AWS's SageMaker samples
set explicitly.

The target for ``InvocationsPerCopy`` is what a careful user gets from a load test: the
invocation rate at which a copy holds the same concurrency the other policies target, by
Little's law ``concurrency = rate x service time``: 8 requests in flight at 1.46 s each are
8 / 1.46 x 60 = 329 invocations per copy per minute.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Protocol

from config.alarms import alarm_plans
from config.specs import scaling_spec
from lambdas.control_plane.bookkeeping import apply_record, decision_record, history_from
from lambdas.control_plane.decision import Snapshot, Trigger, decide, snapshot
from lambdas.control_plane.state import ComponentState

from .cloudwatch import AAS_REACTION_S, LAMBDA_REACTION_S, Alarm, AlarmSpec, State, alarm_spec

if TYPE_CHECKING:
    from .simulator import Simulation

POLICIES = ("legacy", "aws-recommended", "aws-step-sample", "project")

TARGET_TRACKING_COOLDOWN_S = 300
# AWS's step-scaling sample (inference components): one alarm on ConcurrentRequestsPerCopy with
# Period 60 (its comment says 10 s), one datapoint, and ChangeInCapacity steps; scale-in by one
# copy on a separate low alarm. The step table below is ours in the sample's shape: +1 copy when
# over the threshold, +2 at 50 % over, +3 at 100 % over; cooldown 120 s.
STEP_SAMPLE_PERIOD_S = 60
STEP_SAMPLE_STEPS = ((0.0, 1), (0.5, 2), (1.0, 3))
STEP_SAMPLE_COOLDOWN_S = 120
# The sample's scale-in policy sets no cooldown, so Application Auto Scaling's default applies
# (API reference, StepScalingPolicyConfiguration.Cooldown: "If not specified, the default value
# is 300").
STEP_SAMPLE_SCALE_IN_COOLDOWN_S = 300


class Policy(Protocol):
    name: str
    container_cache: bool
    data_cache: bool

    def attach(self, sim: Simulation) -> None:
        """Called once before the run."""

    def on_tick(self, sim: Simulation) -> None:
        """Called every 10 s, after the tick's datapoints were recorded."""


def _window(sim: Simulation, metric: str, spec: AlarmSpec) -> list[float | None]:
    return sim.metrics[metric].window(
        sim.now, spec.period_s, spec.evaluation_periods, spec.statistic
    )


def _latest(values: list[float | None]) -> float | None:
    for v in reversed(values):
        if v is not None:
            return v
    return None


def _evaluate_aas_alarms(
    sim: Simulation,
    metric: str,
    high: Alarm,
    low: Alarm,
    execute: Callable[[Simulation, float, bool], None],
) -> None:
    """Evaluate an Application Auto Scaling policy's high and low alarms when due.

    AAS keeps executing the policy at every evaluation while an alarm is in ALARM (not only on
    transitions), ``AAS_REACTION_S`` later; ``execute(sim, value, scale_out)`` is the policy.
    """
    for alarm in (high, low):
        if not alarm.due(sim.now):
            continue
        window = _window(sim, metric, alarm.spec)
        alarm.update(sim.now, window)
        value = _latest(window)
        if alarm.in_alarm and value is not None:
            sim.schedule(sim.now + AAS_REACTION_S, partial(execute, sim, value, alarm is high))


@dataclass
class FromZeroStep:
    """Scale-out from zero as AWS documents it (endpoint-auto-scaling-zero-instances): a step
    policy on ``NoCapacityInvocationFailures`` adding copies; shared by every baseline."""

    copies: int
    spec: AlarmSpec
    alarm: Alarm = field(init=False)

    def __post_init__(self) -> None:
        self.alarm = Alarm(self.spec)

    def tick(self, sim: Simulation, reaction_s: float) -> None:
        if not self.alarm.due(sim.now):
            return
        self.alarm.update(sim.now, _window(sim, "NoCapacityInvocationFailures", self.spec))
        if self.alarm.in_alarm and sim.desired == 0:
            sim.schedule(
                sim.now + reaction_s,
                lambda: sim.set_desired(max(sim.desired, self.copies), "from zero"),
            )


def _fleet_alarm(sim: Simulation, trigger: Trigger) -> AlarmSpec:
    """The fleet's own alarm for ``trigger`` (``config.alarms``), as the evaluator sees it."""
    return alarm_spec(next(p for p in alarm_plans(sim.c.model) if p.trigger is trigger))


def _from_zero_step(sim: Simulation) -> FromZeroStep:
    return FromZeroStep(sim.c.model.scaling.from_zero.copies, _fleet_alarm(sim, Trigger.FROM_ZERO))


class TargetTracking:
    """Application Auto Scaling target tracking on a per-copy metric."""

    def __init__(
        self,
        name: str,
        *,
        metric: str,
        high_resolution: bool,
        container_cache: bool,
        data_cache: bool,
        target: float | None = None,
    ):
        self.name = name
        self.metric = metric
        self.high_resolution = high_resolution
        self.container_cache = container_cache
        self.data_cache = data_cache
        self.target = target
        self.last_scale_in_at: float | None = None

    def attach(self, sim: Simulation) -> None:
        if self.target is None:
            threshold = sim.c.model.scaling.scale_out.threshold
            if self.metric == "InvocationsPerCopy":
                s = sim.c.model.serving
                service = sim.w.service_time_s(s.prefill_tokens_per_s, s.decode_tokens_per_s)
                mean_s = float(service.mean()) if service.size else 1.0
                self.target = threshold / mean_s * 60.0
            else:
                self.target = threshold
        period = 10 if self.high_resolution else 60
        low_n = 900 // period  # 15 minutes
        self.high = Alarm(
            AlarmSpec(f"{self.name}-high", self.target, "GreaterThanThreshold", period, 3, 3)
        )
        self.low = Alarm(
            AlarmSpec(
                f"{self.name}-low", 0.9 * self.target, "LessThanThreshold", period, low_n, low_n
            )
        )
        self.from_zero = _from_zero_step(sim)

    def on_tick(self, sim: Simulation) -> None:
        assert self.target is not None
        self.from_zero.tick(sim, AAS_REACTION_S)
        _evaluate_aas_alarms(sim, self.metric, self.high, self.low, self._execute)

    def _execute(self, sim: Simulation, value: float, scale_out: bool) -> None:
        assert self.target is not None
        wanted = math.ceil(max(sim.serving, 1) * value / self.target - 1e-9)
        if scale_out:
            if wanted > sim.desired:
                sim.set_desired(wanted, f"target tracking: {value:.1f} > {self.target:.1f}")
            return
        if self.last_scale_in_at is not None and (
            sim.now - self.last_scale_in_at < TARGET_TRACKING_COOLDOWN_S
        ):
            return
        if wanted < sim.desired and sim.serving == sim.desired:
            sim.set_desired(wanted, f"target tracking: {value:.1f} < {0.9 * self.target:.1f}")
            self.last_scale_in_at = sim.now


class StepSample:
    """AWS's step-scaling sample: a 60 s alarm and ChangeInCapacity steps (Application Auto
    Scaling step scaling; during the cooldown the capacity the last scale-out added counts)."""

    name = "aws-step-sample"
    container_cache = True
    data_cache = True

    def attach(self, sim: Simulation) -> None:
        s = sim.c.model.scaling
        self.threshold = s.scale_out.threshold
        self.high = Alarm(
            AlarmSpec(
                "step-high", self.threshold, "GreaterThanThreshold", STEP_SAMPLE_PERIOD_S, 1, 1
            )
        )
        self.low = Alarm(_fleet_alarm(sim, Trigger.SCALE_IN))
        self.from_zero = _from_zero_step(sim)
        self.last_out_at: float | None = None
        self.capacity_before_out = 0
        self.last_in_at: float | None = None

    def on_tick(self, sim: Simulation) -> None:
        self.from_zero.tick(sim, AAS_REACTION_S)
        _evaluate_aas_alarms(sim, "ConcurrentRequestsPerCopy", self.high, self.low, self._execute)

    def _execute(self, sim: Simulation, value: float, scale_out: bool) -> None:
        if scale_out:
            breach = (value - self.threshold) / self.threshold
            add = max(a for lower, a in STEP_SAMPLE_STEPS if breach >= lower)
            in_cooldown = (
                self.last_out_at is not None and sim.now - self.last_out_at < STEP_SAMPLE_COOLDOWN_S
            )
            if in_cooldown:
                target = self.capacity_before_out + add
                if target > sim.desired:
                    sim.set_desired(target, f"step: {value:.1f} (cooldown, counts added)")
                return
            self.capacity_before_out = sim.desired
            self.last_out_at = sim.now
            sim.set_desired(sim.desired + add, f"step: {value:.1f} > {self.threshold}")
            return
        if self.last_in_at is not None and (
            sim.now - self.last_in_at < STEP_SAMPLE_SCALE_IN_COOLDOWN_S
        ):
            return
        if sim.desired > sim.c.model.min_copies:
            sim.set_desired(sim.desired - 1, f"step: {value:.1f} low")
            self.last_in_at = sim.now


class Project:
    """This project's control plane: alarms from the fleet file invoke the scaler Lambda on
    transitions; the scaler calls ``decide`` and re-evaluates after ``reevaluate_after_s`` while
    the alarm stays in ALARM (the delay queue of the real handler)."""

    name = "project"
    container_cache = True
    data_cache = True

    def attach(self, sim: Simulation) -> None:
        self.spec = scaling_spec(sim.c.endpoint, sim.c.model)
        plans = alarm_plans(sim.c.model)
        self.alarms = {p.trigger: Alarm(alarm_spec(p)) for p in plans}
        self.metric = {p.trigger: p.metric for p in plans}
        # The component's row as the scaler's table would hold it: each applied decision's
        # record goes in, and History comes out, by the scaler's own bookkeeping functions.
        self.row = ComponentState(self.spec.component)
        self.decisions: list[tuple[float, str, int, int]] = []

    def on_tick(self, sim: Simulation) -> None:
        for trigger, alarm in self.alarms.items():
            if not alarm.due(sim.now):
                continue
            changed = alarm.update(sim.now, _window(sim, self.metric[trigger], alarm.spec))
            if changed is State.ALARM:
                # A Lambda alarm action runs on every transition to ALARM, even while an
                # earlier re-evaluation chain is still queued: the chains overlap, as they do in
                # AWS. Transitions to OK invoke the real scaler too, which only answers
                # AlarmNotInAlarm; they change nothing, so they are not simulated.
                sim.schedule(sim.now + LAMBDA_REACTION_S, partial(self._invoke, sim, trigger))

    def _snapshot(self, sim: Simulation, trigger: Trigger) -> Snapshot:
        """What the scaler would read: the alarm window's datapoints, as the Lambda gets them."""
        alarm = self.alarms[trigger]
        window = _window(sim, self.metric[trigger], alarm.spec)
        present = [v for v in window if v is not None]
        return snapshot(
            trigger,
            alarm.in_alarm,
            present,
            sim.desired,
            sim.serving,
            free_copy_slots=sim.free_copy_slots(),
            instances=len(sim.live_instances()),
            image_cached=sim.image_cached,
        )

    def _invoke(self, sim: Simulation, trigger: Trigger) -> None:
        observed = self._snapshot(sim, trigger)
        decision = decide(observed, self.spec, history_from(self.row), sim.now)
        self.decisions.append(
            (sim.now, decision.reason.value, decision.desired_copies, decision.target_copies)
        )
        if decision.changes:
            sim.set_desired(decision.target_copies, f"project: {decision.reason.value}")
            self.row = apply_record(self.row, decision_record(decision, observed, sim.now))
        if decision.reevaluate_after_s and self.alarms[trigger].in_alarm:
            sim.schedule(sim.now + decision.reevaluate_after_s, partial(self._invoke, sim, trigger))


def make_policy(name: str) -> Policy:
    """A fresh policy by name (``POLICIES``)."""
    if name == "legacy":
        return TargetTracking(
            "legacy",
            metric="InvocationsPerCopy",
            high_resolution=False,
            container_cache=False,
            data_cache=False,
        )
    if name == "aws-recommended":
        return TargetTracking(
            "aws-recommended",
            metric="ConcurrentRequestsPerCopy",
            high_resolution=True,
            container_cache=True,
            data_cache=True,
        )
    if name == "aws-step-sample":
        return StepSample()
    if name == "project":
        return Project()
    raise ValueError(f"unknown policy {name!r}; allowed: {', '.join(POLICIES)} or all")
