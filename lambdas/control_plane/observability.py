"""Structured logs and EMF metrics with the contract's namespace and dimension names."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from . import contract

# The service name comes from POWERTOOLS_SERVICE_NAME (set per function by the stacks).
logger = Logger()


def emit(
    name: str,
    value: float,
    unit: str = "Count",
    *,
    endpoint: str,
    component: str | None = None,
    path: str | None = None,
) -> None:
    """One metric in CloudWatch embedded metric format, flushed at once.

    Each metric gets its own dimension set (endpoint, then component and path when they
    apply), which Powertools' single-metric writer allows within one invocation.
    """
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    dimensions = {contract.DIM_ENDPOINT: endpoint}
    if component is not None:
        dimensions[contract.DIM_COMPONENT] = component
    if path is not None:
        dimensions[contract.DIM_PATH] = path
    with single_metric(
        name=name,
        unit=MetricUnit(unit),
        value=value,
        namespace=contract.METRICS_NAMESPACE,
        default_dimensions=dimensions,
    ):
        pass


def bind(**keys: Any) -> None:
    """Keys on every following log line of this invocation (alarm, endpoint, component)."""
    logger.append_keys(**keys)


def reset(endpoint: str) -> None:
    """Start one record of a batch: drop the previous record's keys, keep the endpoint.

    A whole invocation starts clean by itself: every handler is decorated with Powertools'
    ``inject_lambda_context(clear_state=True)``, which also adds the function's name, request
    id and cold start to each line."""
    logger.remove_keys(["alarm", "component", "trigger", "event_id"])
    logger.append_keys(endpoint=endpoint, alarm=None)
