"""The alarms of every inference component (scale-out, surge, scale-in, from-zero), as data.

The CDK stack (``stacks/alarms.py``), the simulator's ``project`` policy and the local demo all
build their alarms from these plans, so a threshold, a window or a statistic is decided once.

Missing data is ``notBreaching`` for all of them (the stack documents why, alarm by alarm): a gap
never counts as load, so it can neither remove capacity nor invent a spike.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdas.control_plane import contract
from lambdas.control_plane.decision import Trigger

from .fleet import AlarmWindow, Model

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
CONCURRENCY_METRIC = "ConcurrentRequestsPerCopy"
NO_CAPACITY_METRIC = "NoCapacityInvocationFailures"
COMPONENT_DIMENSION = "InferenceComponentName"
TREAT_MISSING_DATA = "notBreaching"

_SYMBOLS = {"GreaterThanThreshold": ">", "LessThanThreshold": "<"}


@dataclass(frozen=True)
class AlarmPlan:
    """One alarm: ``datapoints`` of ``evaluation_periods`` periods with ``metric`` (the
    ``statistic`` of each period) ``comparison`` ``threshold``."""

    name: str
    endpoint: str
    component: str
    trigger: Trigger
    metric: str
    statistic: str
    comparison: str  # CloudWatch's ComparisonOperator: GreaterThanThreshold | LessThanThreshold
    threshold: float
    window: AlarmWindow
    treat_missing_data: str = TREAT_MISSING_DATA  # CloudWatch's TreatMissingData

    @property
    def period_s(self) -> int:
        return self.window.period_s

    @property
    def evaluation_periods(self) -> int:
        return self.window.evaluation_periods

    @property
    def datapoints(self) -> int:
        return self.window.datapoints

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self.comparison]

    @property
    def detects_within_s(self) -> int:
        """Earliest the alarm can fire after the condition starts: M datapoints of the period."""
        return self.window.period_s * self.window.datapoints


def alarm_plans(model: Model) -> list[AlarmPlan]:
    """The scale-out, scale-in and from-zero alarms of ``model``'s inference component, and its
    surge alarm unless ``scaling.surge`` is off: one datapoint of the scale-out period at
    ``multiple`` x the scale-out threshold (24 per copy for the default fleet)."""
    s = model.scaling
    surge = AlarmWindow(s.scale_out.alarm.period_s, 1, 1)
    rows = [
        (
            Trigger.SCALE_OUT,
            CONCURRENCY_METRIC,
            "Average",
            "GreaterThanThreshold",
            s.scale_out.threshold,
            s.scale_out.alarm,
        ),
        (
            Trigger.SCALE_IN,
            CONCURRENCY_METRIC,
            "Average",
            "LessThanThreshold",
            s.scale_in.threshold,
            s.scale_in.alarm,
        ),
        (
            Trigger.FROM_ZERO,
            NO_CAPACITY_METRIC,
            "Sum",
            "GreaterThanThreshold",
            0.0,
            s.from_zero.alarm,
        ),
    ]
    if s.surge.enabled:
        rows.insert(
            1,
            (
                Trigger.SURGE,
                CONCURRENCY_METRIC,
                "Average",
                "GreaterThanThreshold",
                s.scale_out.threshold * s.surge.multiple,
                surge,
            ),
        )
    return [
        AlarmPlan(
            contract.alarm_name(model.component_name, trigger),
            model.endpoint_name,
            model.component_name,
            trigger,
            metric,
            statistic,
            comparison,
            float(threshold),
            window,
        )
        for trigger, metric, statistic, comparison, threshold, window in rows
    ]


def alarm_names(models: list[Model] | tuple[Model, ...]) -> list[str]:
    return [plan.name for m in models for plan in alarm_plans(m)]
