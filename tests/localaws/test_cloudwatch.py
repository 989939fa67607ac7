"""CloudWatch's publishing delay and alarm evaluation on top of moto, in process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localaws.cloudwatch import AlarmEvaluator, DelayedMetrics, MetricAlarm
from sim.cloudwatch import State

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()  # aligned to every period
DIMENSIONS = (("InferenceComponentName", "chat"),)
# The fleet's scale-out alarm: Average of 2 out of 3 periods of 10 s above 8.
HOT = MetricAlarm(
    name="chat-scale-out",
    namespace="AWS/SageMaker",
    metric="ConcurrentRequestsPerCopy",
    dimensions=DIMENSIONS,
    statistic="Average",
    period_s=10,
    evaluation_periods=3,
    datapoints_to_alarm=2,
    threshold=8.0,
    comparison="GreaterThanThreshold",
    treat_missing_data="notBreaching",
    description="scale_out for inference component chat",
)


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(key, value)
    with mock_aws():
        cw = boto3.client("cloudwatch")
        cw.put_metric_alarm(
            AlarmName=HOT.name,
            Namespace=HOT.namespace,
            MetricName=HOT.metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in HOT.dimensions],
            Statistic="Average",
            Period=10,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=8.0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
        yield cw


def datum(period_start: float, value: float) -> Any:
    return {
        "MetricName": HOT.metric,
        "Dimensions": [{"Name": k, "Value": v} for k, v in DIMENSIONS],
        "Timestamp": datetime.fromtimestamp(period_start, UTC),
        "Value": value,
        "StorageResolution": 1,
    }


def replay(cw: Any, values: list[float], until_s: int) -> list[Any]:
    """Datapoints of the periods from T0, each readable 30 s after its period; the alarm
    evaluated every 10 s up to ``until_s``. The transitions."""
    metrics = DelayedMetrics(cw)
    evaluator = AlarmEvaluator(cw, publish_delay_s=30.0)
    evaluator.add(HOT)
    for k, value in enumerate(values):
        metrics.add(T0 + 10 * (k + 1) + 30, HOT.namespace, datum(T0 + 10 * k, value))
    transitions = []
    for t in range(0, until_s + 1, 10):
        metrics.publish_due(T0 + t)
        transitions.extend(evaluator.evaluate(T0 + t))
    return transitions


def test_an_alarm_fires_once_its_second_breaching_datapoint_is_readable(cloudwatch: Any) -> None:
    # Given 9 and 10 in the first two periods (the second ends at +20 s, readable at +50 s).
    transitions = replay(cloudwatch, [9.0, 10.0], until_s=60)
    # Then a new alarm's first evaluation clears it (missing data is not breaching), and it
    # goes to ALARM at +50 s, not before: the datapoint was not readable earlier.
    assert [(t.at - T0, t.old, t.new) for t in transitions] == [
        (0, State.INSUFFICIENT_DATA, State.OK),
        (50, State.OK, State.ALARM),
    ]
    fired = transitions[-1]
    assert fired.datapoints == (None, 9.0, 10.0)
    # CloudWatch holds the new state with its reason.
    alarm = cloudwatch.describe_alarms(AlarmNames=[HOT.name])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints")
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [9.0, 10.0]


def test_a_transition_carries_the_event_the_alarm_action_receives(cloudwatch: Any) -> None:
    fired = replay(cloudwatch, [9.0, 10.0], until_s=50)[-1]
    event = fired.event("us-east-1")
    data = event["alarmData"]
    assert event["alarmArn"].endswith(f":alarm:{HOT.name}")
    assert (data["previousState"]["value"], data["state"]["value"]) == ("OK", "ALARM")
    assert data["state"]["timestamp"] == "2026-01-05T09:00:50.000+0000"
    metric = data["configuration"]["metrics"][0]["metricStat"]
    assert metric["metric"]["dimensions"] == {"InferenceComponentName": "chat"}
    assert (metric["period"], metric["stat"]) == (10, "Average")
    assert data["configuration"]["description"] == HOT.description


def test_one_breaching_datapoint_of_three_does_not_fire(cloudwatch: Any) -> None:
    transitions = replay(cloudwatch, [9.0, 2.0, 3.0], until_s=90)
    assert [t.new for t in transitions] == [State.OK]


def test_an_alarm_removed_is_no_longer_evaluated(cloudwatch: Any) -> None:
    evaluator = AlarmEvaluator(cloudwatch, publish_delay_s=30.0)
    evaluator.add(HOT)
    evaluator.remove([HOT.name])
    assert evaluator.evaluate(T0) == []


def test_an_unknown_comparison_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="comparison 'Above'; allowed: GreaterThanThreshold"):
        MetricAlarm(
            name="x",
            namespace="n",
            metric="m",
            dimensions=(),
            statistic="Average",
            period_s=10,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=1.0,
            comparison="Above",
            treat_missing_data="missing",
        )


def test_held_datapoints_are_put_in_batches_of_the_api_limit(cloudwatch: Any) -> None:
    calls: list[int] = []
    cloudwatch.meta.events.register(
        "before-call.cloudwatch.PutMetricData", lambda **_: calls.append(1)
    )
    metrics = DelayedMetrics(cloudwatch)
    for k in range(1001):
        metrics.add(T0, HOT.namespace, datum(T0 - 10 * (k + 1), float(k)))
    metrics.publish_due(T0 - 1)  # nothing readable yet
    assert calls == []
    metrics.publish_due(T0)
    assert calls == [1, 1]  # 1000 + 1
    metrics.publish_due(T0 + 10)  # each datapoint is put once
    assert calls == [1, 1]
