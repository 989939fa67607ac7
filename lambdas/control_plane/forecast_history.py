"""The forecaster's input: each component's per-minute ``Invocations`` on previous days.

What it reads: namespace ``AWS/SageMaker``, metric ``Invocations``, statistic ``Sum``, period
60 s, dimension ``InferenceComponentName`` (SageMaker's per-component invocation metric), for
the endpoint's own components only. CloudWatch keeps 1-minute datapoints for 15 days, so at
most ``MAX_HISTORY_DAYS`` days back.

``forecast.forecast`` predicts the minutes from now to now + horizon from the same minutes of
previous days, so only those windows are read: one ``GetMetricData`` per previous day, from
``now - k days`` to ``now - k days + horizon`` (minute-aligned), with one query per component
(a request takes up to 500). Fourteen days of a 10-minute horizon are 140 datapoints per
component instead of the 20,160 of the whole span, and each request's ``NextToken`` is
followed until its window is complete. One more request reads the last ``RECENT_S`` (6 hours)
up to now: the recent bursts, which recur at intervals rather than at a time of day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import aws
from .forecast import DAY_S, MINUTE_S

if TYPE_CHECKING:
    from types_boto3_cloudwatch import CloudWatchClient

NAMESPACE = "AWS/SageMaker"
METRIC = "Invocations"
DIMENSION = "InferenceComponentName"
MAX_HISTORY_DAYS = 15  # CloudWatch keeps 1-minute datapoints for 15 days
MAX_QUERIES = 500  # MetricDataQueries per GetMetricData request
RECENT_S = 6 * 3600  # today's last hours, for the bursts (bursts.burst_starts)

History = dict[str, list[tuple[float, float]]]  # component -> (minute start, invocations)


def windows(now: float, days: int, horizon_s: float) -> list[tuple[float, float]]:
    """(start, end) epoch seconds of the window on each of the ``days`` previous days, newest
    first: from the minute of ``now`` one day back to the minute after ``now + horizon_s``.

    Now 09:05:30, horizon 560 s, 2 days: [(09:05 yesterday, 09:16 yesterday), (the same two
    days back)].
    """
    if not 1 <= days <= MAX_HISTORY_DAYS:
        raise ValueError(
            f"history days must be 1 to {MAX_HISTORY_DAYS} (CloudWatch keeps 1-minute data "
            f"for 15 days), got {days}"
        )
    if not (math.isfinite(horizon_s) and 0 <= horizon_s <= DAY_S):
        raise ValueError(f"horizon_s must be 0 to {DAY_S} s, got {horizon_s!r}")
    first = math.floor(now / MINUTE_S) * MINUTE_S
    last = (math.floor((now + horizon_s) / MINUTE_S) + 1) * MINUTE_S
    return [(first - k * DAY_S, last - k * DAY_S) for k in range(1, days + 1)]


def read_history(
    cloudwatch: CloudWatchClient,
    components: Sequence[str],
    now: float,
    *,
    days: int,
    horizon_s: float,
) -> History:
    """Per-minute ``Invocations`` of ``components``: the last ``RECENT_S`` and the windows
    ``windows`` names.

    A component with no datapoint gets an empty list. AWS errors arrive classified
    (``aws.Throttled`` and the others): the caller decides what a failed read means.
    """
    if len(components) > MAX_QUERIES:
        raise ValueError(f"at most {MAX_QUERIES} components per read, got {len(components)}")
    history: History = {name: [] for name in components}
    if not components:
        return history
    queries: list[Any] = [
        {
            "Id": f"c{i}",
            "ReturnData": True,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": METRIC,
                    "Dimensions": [{"Name": DIMENSION, "Value": name}],
                },
                "Period": MINUTE_S,
                "Stat": "Sum",
            },
        }
        for i, name in enumerate(components)
    ]
    recent = (math.floor((now - RECENT_S) / MINUTE_S) * MINUTE_S, now)
    for start, end in [recent, *windows(now, days, horizon_s)]:
        _read_window(cloudwatch, queries, components, start, end, history)
    for series in history.values():
        series.sort()
    return history


def _read_window(
    cloudwatch: CloudWatchClient,
    queries: list[Any],
    components: Sequence[str],
    start: float,
    end: float,
    into: History,
) -> None:
    kwargs: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": datetime.fromtimestamp(start, UTC),
        "EndTime": datetime.fromtimestamp(end, UTC),
        "ScanBy": "TimestampAscending",
    }
    while True:
        page = _get_metric_data(cloudwatch, kwargs)
        for result in page.get("MetricDataResults", []):
            name = _component_of(result.get("Id", ""), components)
            if name is None:
                continue
            for stamp, value in zip(
                result.get("Timestamps", []), result.get("Values", []), strict=False
            ):
                into[name].append((stamp.timestamp(), float(value)))
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


def _get_metric_data(cloudwatch: CloudWatchClient, kwargs: dict[str, Any]) -> Any:
    from botocore.exceptions import ClientError

    try:
        return cloudwatch.get_metric_data(**kwargs)
    except ClientError as exc:
        raise aws.classify(exc) from exc


def _component_of(query_id: str, components: Sequence[str]) -> str | None:
    if not query_id.startswith("c") or not query_id[1:].isdigit():
        return None
    index = int(query_id[1:])
    return components[index] if index < len(components) else None


def recent(series: Sequence[tuple[float, float]], now: float) -> list[tuple[float, float]]:
    """The part of ``series`` from the last ``RECENT_S`` up to ``now``."""
    return [(t, v) for t, v in series if now - RECENT_S <= t <= now]


def within_days(
    series: Sequence[tuple[float, float]], now: float, days: int
) -> list[tuple[float, float]]:
    """The part of ``series`` from the last ``days`` days (a component may keep fewer days
    than the read covered for the endpoint's other components)."""
    return [(t, v) for t, v in series if t >= now - days * DAY_S]
