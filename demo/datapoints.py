"""What CloudWatch receives from one component's part of its endpoint's simulation at a tick,
and when it is readable.

* ``ConcurrentRequestsPerCopy`` (none while no copy serves: SageMaker emits nothing per copy)
  and ``NoCapacityInvocationFailures`` (when there were any) of the tick just ended, high
  resolution, readable ``HIGH_RES_PUBLISH_DELAY_S`` later, stamped with their period;
* at a minute boundary, that minute's ``Invocations``, a standard metric readable
  ``STANDARD_PUBLISH_DELAY_S`` later: the forecaster reads it for the recent peak (the
  previous days are the history ``demo.run`` puts in CloudWatch before the run).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from config.alarms import COMPONENT_DIMENSION, CONCURRENCY_METRIC, NO_CAPACITY_METRIC
from sim.cloudwatch import HIGH_RES_PUBLISH_DELAY_S, STANDARD_PUBLISH_DELAY_S
from sim.simulator import TICK_S, Lane

if TYPE_CHECKING:
    from types_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

MINUTE_S = 60


def tick_datapoints(
    lane: Lane, component: str, now_s: float, epoch: float
) -> list[tuple[float, MetricDatumTypeDef]]:
    """(readable at, datum) for ``component`` at the tick ending at ``now_s`` (``epoch``: the
    same instant on the wall clock the handlers read)."""
    dims: list[DimensionTypeDef] = [{"Name": COMPONENT_DIMENSION, "Value": component}]
    stamp = datetime.fromtimestamp(epoch - TICK_S, UTC)
    due = now_s + HIGH_RES_PUBLISH_DELAY_S
    out: list[tuple[float, MetricDatumTypeDef]] = []
    per_copy = lane.metrics[CONCURRENCY_METRIC].values[-1]
    failures = lane.metrics[NO_CAPACITY_METRIC].values[-1]
    if per_copy is not None:
        out.append(
            (
                due,
                {
                    "MetricName": CONCURRENCY_METRIC,
                    "Dimensions": dims,
                    "Timestamp": stamp,
                    "Value": round(per_copy, 3),
                    "StorageResolution": 1,
                },
            )
        )
    if failures:
        out.append(
            (
                due,
                {
                    "MetricName": NO_CAPACITY_METRIC,
                    "Dimensions": dims,
                    "Timestamp": stamp,
                    "Value": float(failures),
                    "StorageResolution": 1,
                },
            )
        )
    invocations = lane.metrics["Invocations"].values
    minute = round(now_s) // MINUTE_S - 1
    if round(now_s) % MINUTE_S == 0 and 0 <= minute < len(invocations):
        value = invocations[minute]
        if value is not None:
            out.append(
                (
                    now_s + STANDARD_PUBLISH_DELAY_S,
                    {
                        "MetricName": "Invocations",
                        "Dimensions": dims,
                        "Timestamp": datetime.fromtimestamp(epoch - MINUTE_S, UTC),
                        "Value": float(value),
                        "Unit": "Count",
                    },
                )
            )
    return out
