"""What moto's CloudWatch lacks: datapoints that arrive late, and alarms that evaluate.

moto stores metric data and alarms but never evaluates an alarm, and a datapoint is readable the
moment it is put. Here:

* ``DelayedMetrics`` holds datapoints until their publishing delay has passed, then puts them
  with ``PutMetricData`` (1000 per call, the API's limit);
* ``AlarmEvaluator`` evaluates the alarms it was given at their period boundaries, as CloudWatch
  does: it reads the latest ``EvaluationPeriods`` periods back with ``GetMetricData`` (one call
  per period length), applies M out of N with the alarm's ``TreatMissingData``
  (``sim.cloudwatch.evaluate``, the same rule the simulator uses), writes a change with
  ``SetAlarmState`` and returns it as a ``Transition``, whose ``event`` is what the alarm's
  Lambda action receives.

Times are epoch seconds of whatever clock the caller runs (the demo's is simulated).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sim.cloudwatch import Alarm, AlarmSpec, State

from . import events

if TYPE_CHECKING:
    from types_boto3_cloudwatch.client import CloudWatchClient
    from types_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef, MetricDatumTypeDef

PUT_METRIC_DATA_LIMIT = 1000  # datapoints per PutMetricData call
SYMBOLS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


class DelayedMetrics:
    """Datapoints put once they are readable (``readable_at``, in the caller's seconds)."""

    def __init__(self, cloudwatch: CloudWatchClient) -> None:
        self._cloudwatch = cloudwatch
        self._held: list[tuple[float, str, MetricDatumTypeDef]] = []

    def add(self, readable_at: float, namespace: str, datum: MetricDatumTypeDef) -> None:
        self._held.append((readable_at, namespace, datum))

    def publish_due(self, now: float) -> None:
        """Put every held datapoint readable by ``now``, in the order they were added."""
        ready = [(ns, d) for at, ns, d in self._held if at <= now]
        self._held = [h for h in self._held if h[0] > now]
        namespaces = list(dict.fromkeys(ns for ns, _ in ready))
        for namespace in namespaces:
            data = [d for ns, d in ready if ns == namespace]
            for start in range(0, len(data), PUT_METRIC_DATA_LIMIT):
                self._cloudwatch.put_metric_data(
                    Namespace=namespace, MetricData=data[start : start + PUT_METRIC_DATA_LIMIT]
                )


@dataclass(frozen=True)
class MetricAlarm:
    """One alarm on one metric, in ``PutMetricAlarm``'s terms."""

    name: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str
    description: str = ""

    def __post_init__(self) -> None:
        if self.comparison not in SYMBOLS:
            raise ValueError(
                f"alarm {self.name}: comparison {self.comparison!r}; allowed: {', '.join(SYMBOLS)}"
            )

    @property
    def spec(self) -> AlarmSpec:
        return AlarmSpec(
            self.name,
            self.threshold,
            self.comparison,
            self.period_s,
            self.evaluation_periods,
            self.datapoints_to_alarm,
            self.statistic,
            self.treat_missing_data,
        )

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.comparison]


@dataclass(frozen=True)
class Transition:
    """An alarm's change of state at ``at``, with the datapoints it was evaluated on (one per
    period from ``first``, ``None`` where CloudWatch had none)."""

    alarm: MetricAlarm
    old: State
    new: State
    at: float
    first: float
    datapoints: tuple[float | None, ...]
    reason: str
    reason_data: str

    def event(self, region: str, account: str = events.ACCOUNT_ID) -> dict[str, Any]:
        """The CloudWatch alarm -> Lambda event of this transition."""
        a = self.alarm
        return events.alarm_event(
            a.name,
            dict(a.dimensions),
            self.new.value,
            self.old.value,
            metric=a.metric,
            statistic=a.statistic,
            period_s=a.period_s,
            reason=self.reason,
            reason_data=self.reason_data,
            timestamp=events.alarm_time(self.at),
            region=region,
            account=account,
            description=a.description,
            namespace=a.namespace,
        )


class AlarmEvaluator:
    """The alarms added, each evaluated at its period boundaries on readable datapoints.

    A datapoint of the period ``[t, t + period)`` counts once ``publish_delay_s`` have passed
    after its period ended (``DelayedMetrics`` puts it then), so an evaluation at ``now`` reads
    the latest whole periods that end by ``now - publish_delay_s``.
    """

    def __init__(self, cloudwatch: CloudWatchClient, *, publish_delay_s: float) -> None:
        self._cloudwatch = cloudwatch
        self.publish_delay_s = publish_delay_s
        self._alarms: dict[str, tuple[MetricAlarm, Alarm]] = {}

    def add(self, alarm: MetricAlarm) -> None:
        self._alarms[alarm.name] = (alarm, Alarm(alarm.spec))

    def remove(self, names: Iterable[str]) -> None:
        for name in names:
            self._alarms.pop(name, None)

    def states(self) -> Mapping[str, State]:
        return {name: state.state for name, (_, state) in self._alarms.items()}

    def evaluate(self, now: float) -> list[Transition]:
        """Evaluate every alarm due at ``now``; the transitions, in the order alarms were added."""
        due: dict[int, list[tuple[MetricAlarm, Alarm]]] = {}
        for alarm, state in self._alarms.values():
            if state.due(now):
                due.setdefault(alarm.period_s, []).append((alarm, state))
        transitions: list[Transition] = []
        for period_s, group in due.items():
            horizon = now - self.publish_delay_s
            end = math.floor(horizon / period_s) * period_s
            periods = max(a.evaluation_periods for a, _ in group)
            values = self._read(group, period_s, end - periods * period_s, end)
            for i, (alarm, state) in enumerate(group):
                first = end - alarm.evaluation_periods * period_s
                slots: list[float | None] = [None] * alarm.evaluation_periods
                for stamp, value in values[i]:
                    k = round((stamp - first) / period_s)
                    if 0 <= k < alarm.evaluation_periods:
                        slots[k] = value
                old = state.state
                new = state.update(now, slots)
                if new is not None:
                    transitions.append(self._set_state(alarm, old, new, now, first, slots))
        return transitions

    def _read(
        self, group: list[tuple[MetricAlarm, Alarm]], period_s: int, start: float, end: float
    ) -> list[list[tuple[float, float]]]:
        """(timestamp, value) of each alarm's metric and statistic, in one GetMetricData."""
        queries: list[MetricDataQueryTypeDef] = [
            {
                "Id": f"a{i}",
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": a.namespace,
                        "MetricName": a.metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in a.dimensions],
                    },
                    "Period": period_s,
                    "Stat": a.statistic,
                },
            }
            for i, (a, _) in enumerate(group)
        ]
        response = self._cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            ScanBy="TimestampAscending",
        )
        by_id = {r.get("Id", ""): r for r in response["MetricDataResults"]}
        out: list[list[tuple[float, float]]] = []
        for i in range(len(group)):
            result = by_id.get(f"a{i}", {})
            stamps = result.get("Timestamps", [])
            out.append(
                [
                    (stamp.timestamp(), float(value))
                    for stamp, value in zip(stamps, result.get("Values", []), strict=False)
                ]
            )
        return out

    def _set_state(
        self,
        alarm: MetricAlarm,
        old: State,
        new: State,
        now: float,
        first: float,
        slots: list[float | None],
    ) -> Transition:
        """Write the new state with CloudWatch's reason and reason data."""
        present = [v for v in slots if v is not None]
        verdict = "were" if new is State.ALARM else "were not"
        reason = (
            f"Threshold Crossed: {alarm.datapoints_to_alarm} out of the last "
            f"{alarm.evaluation_periods} datapoints {verdict} {alarm.symbol} the threshold "
            f"({alarm.threshold:g})"
        )
        reason_data = json.dumps(
            {
                "version": "1.0",
                "queryDate": events.alarm_time(now),
                "startDate": events.alarm_time(first),
                "statistic": alarm.statistic,
                "period": alarm.period_s,
                "recentDatapoints": [round(v, 3) for v in present],
                "threshold": alarm.threshold,
                # Each datapoint carries its own period's timestamp (slot k starts at
                # first + k x period); a missing slot is left out, as CloudWatch does.
                "evaluatedDatapoints": [
                    {
                        "timestamp": events.alarm_time(first + k * alarm.period_s),
                        "sampleCount": 1.0,
                        "value": round(v, 3),
                    }
                    for k, v in enumerate(slots)
                    if v is not None
                ],
            }
        )
        self._cloudwatch.set_alarm_state(
            AlarmName=alarm.name,
            StateValue=new.value,
            StateReason=reason,
            StateReasonData=reason_data,
        )
        return Transition(alarm, old, new, now, first, tuple(slots), reason, reason_data)
