"""The CloudWatch alarm → Lambda event, parsed into an ``AlarmEvent`` before anything acts.

The alarm's ``period`` and ``stat`` are checked with the queue path's rules (``metric_period``,
``metric_stat``), so a follow-up the scaler builds from an alarm it accepted always parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import contract
from .decision import Trigger
from .event_fields import (
    EventError,
    UnknownComponent,
    bounded_json,
    metric_period,
    metric_stat,
    name_at,
    show,
    value_at,
)

# CloudWatch's own limit on an alarm's StateReasonData (botocore's model: max 4000).
REASON_DATA_MAX_CHARS = 4000
ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")


@dataclass(frozen=True)
class AlarmEvent:
    alarm_name: str
    component: str
    trigger: Trigger
    state: str
    previous_state: str | None
    timestamp: str
    datapoints: tuple[float, ...]  # the alarm's recent datapoints, oldest first
    period_s: int | None
    stat: str | None

    @property
    def in_alarm(self) -> bool:
        return self.state == "ALARM"

    @property
    def event_id(self) -> str:
        # A state transition happens once: its alarm, new state and timestamp identify it.
        return f"alarm|{self.alarm_name}|{self.state}|{self.timestamp}"


def is_alarm_event(event: Any) -> bool:
    return (
        isinstance(event, Mapping)
        and event.get("source") == "aws.cloudwatch"
        and "alarmData" in event
    )


def parse_alarm_event(event: Any) -> AlarmEvent:
    """The documented CloudWatch alarm → Lambda event shape."""
    alarm_name = name_at(event, "alarmData.alarmName")
    state = value_at(event, "alarmData.state.value", str)
    if state not in ALARM_STATES:
        raise EventError(f"alarmData.state.value {show(state)} is not one of {ALARM_STATES}")
    timestamp = name_at(event, "alarmData.state.timestamp")
    previous = event["alarmData"].get("previousState")
    previous_state = None
    if previous is not None:
        previous_state = value_at(event, "alarmData.previousState.value", str)
        if previous_state not in ALARM_STATES:
            raise EventError(
                f"alarmData.previousState.value {show(previous_state)} is not one of {ALARM_STATES}"
            )
    try:
        component, trigger = contract.parse_alarm_name(alarm_name)
    except ValueError as exc:
        raise UnknownComponent(str(exc)) from None
    datapoints = _reason_datapoints(event["alarmData"]["state"].get("reasonData"))
    period_s, stat = _alarm_metric_stat(event["alarmData"].get("configuration"))
    return AlarmEvent(
        alarm_name,
        component,
        trigger,
        state,
        previous_state,
        timestamp,
        datapoints,
        period_s,
        stat,
    )


def _reason_datapoints(reason_data: Any) -> tuple[float, ...]:
    """``recentDatapoints`` from the alarm's ``reasonData`` JSON; empty when it has none.

    An alarm in ALARM without numbers must still scale out (the decision takes the smallest
    step), so a missing reason or list is not an error; one that is there but is not what
    CloudWatch writes (not bounded JSON, not a list of finite numbers) is.
    """
    if reason_data is None:
        return ()
    what = "alarmData.state.reasonData"
    decoded = bounded_json(reason_data, what, REASON_DATA_MAX_CHARS)
    if not isinstance(decoded, dict):
        raise EventError(f"{what} must be a JSON object, got {show(decoded)}")
    points = decoded.get("recentDatapoints")
    if points is None:
        return ()
    if not isinstance(points, list) or not all(
        isinstance(p, int | float) and not isinstance(p, bool) for p in points
    ):
        raise EventError(f"{what}.recentDatapoints must be a list of numbers")
    return tuple(float(p) for p in points)


def _alarm_metric_stat(configuration: Any) -> tuple[int | None, str | None]:
    """The first metric's ``period`` and ``stat``, each ``None`` when the event has none."""
    if configuration is None:
        return None, None
    where = "alarmData.configuration"
    if not isinstance(configuration, Mapping):
        raise EventError(f"{where} must be an object, got {show(configuration)}")
    metrics = configuration.get("metrics")
    if metrics is None or metrics == []:
        return None, None
    if not isinstance(metrics, list) or not isinstance(metrics[0], Mapping):
        raise EventError(f"{where}.metrics must be a list of objects")
    stat = metrics[0].get("metricStat")
    if stat is None:
        return None, None  # a metric-math alarm: no single period or statistic
    where = f"{where}.metrics[0].metricStat"
    if not isinstance(stat, Mapping):
        raise EventError(f"{where} must be an object, got {show(stat)}")
    period = stat.get("period")
    name = stat.get("stat")
    return (
        None if period is None else metric_period(period, f"{where}.period"),
        None if name is None else metric_stat(name, f"{where}.stat"),
    )
