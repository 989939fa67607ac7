"""A CloudWatch dashboard per endpoint: load, copies, instances, decisions, the forecast floor, the
scaling phases (alarm to decision, decision to desired count set, decision to copies serving by
path), alarm states, and a control-plane health row (operator alarms, dead letters, function
failures, shortages)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from config.alarms import COMPONENT_DIMENSION, CONCURRENCY_METRIC, SAGEMAKER_NAMESPACE
from config.fleet import Endpoint
from lambdas.control_plane import contract

WIDTH = 24  # the dashboard grid is 24 columns wide


def handler_metric(
    metric_name: str, endpoint_name: str, statistic: str, period_s: int, label: str, extra: str = ""
) -> cloudwatch.MathExpression:
    """Every series of one handler metric for one endpoint, whatever its other dimensions.

    Powertools adds a ``service`` dimension, and ``ScaleOutSeconds`` is split by component and
    path; a SEARCH expression on the endpoint's name finds them all without spelling each
    dimension set (CloudWatch "Use search expressions in graphs").
    """
    query = (
        f'{{{contract.METRICS_NAMESPACE}}} MetricName="{metric_name}" '
        f'{contract.DIM_ENDPOINT}="{endpoint_name}" {extra}'
    ).strip()
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', {period_s})",
        label=label,
        period=Duration.seconds(period_s),
        using_metrics={},
    )


class EndpointDashboard(Construct):
    """Concurrency per copy, desired/current/target copies, instances, decisions, alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: Endpoint,
        alarms: Sequence[cloudwatch.IAlarm],
        health_alarms: Sequence[cloudwatch.IAlarm],
        functions: Mapping[str, lambda_.IFunction],
        dead_letters: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        name = endpoint.name
        concurrency = cloudwatch.GraphWidget(
            title="ConcurrentRequestsPerCopy (10 s)",
            width=WIDTH // 2,
            height=6,
            left=[
                cloudwatch.Metric(
                    namespace=SAGEMAKER_NAMESPACE,
                    metric_name=CONCURRENCY_METRIC,
                    dimensions_map={COMPONENT_DIMENSION: m.component_name},
                    statistic="Average",
                    period=Duration.seconds(10),
                    label=m.name,
                )
                for m in endpoint.models
            ],
            left_annotations=[
                cloudwatch.HorizontalAnnotation(
                    value=m.scaling.scale_out.threshold, label=f"{m.name} scale-out"
                )
                for m in endpoint.models
            ],
        )
        copies = cloudwatch.GraphWidget(
            title="Copies: desired, current, scaler target",
            width=WIDTH // 2,
            height=6,
            left=[
                handler_metric(contract.METRIC_DESIRED_COPIES, name, "Maximum", 60, "desired"),
                handler_metric(contract.METRIC_CURRENT_COPIES, name, "Maximum", 60, "current"),
                handler_metric(contract.METRIC_TARGET_COPIES, name, "Maximum", 60, "target"),
            ],
        )
        instances = cloudwatch.GraphWidget(
            title="Instances",
            width=WIDTH // 3,
            height=6,
            left=[handler_metric(contract.METRIC_INSTANCES, name, "Maximum", 60, "instances")],
        )
        decisions = cloudwatch.GraphWidget(
            title="Scaling decisions and errors",
            width=WIDTH // 3,
            height=6,
            left=[handler_metric(contract.METRIC_SCALING_DECISIONS, name, "Sum", 60, "decisions")],
            right=[handler_metric(contract.METRIC_SCALING_ERRORS, name, "Sum", 60, "errors")],
        )
        scale_out_s = cloudwatch.GraphWidget(
            title="Decision to copies serving (s), by path",
            width=WIDTH // 3,
            height=6,
            left=[
                handler_metric(
                    contract.METRIC_SCALE_OUT_SECONDS,
                    name,
                    "Maximum",
                    300,
                    path,
                    extra=f'{contract.DIM_PATH}="{path}"',
                )
                for path in ("warm_instance", "cached", "uncached")
            ],
        )
        # --- per-phase telemetry: where the seconds between a spike and its copies go ---------
        alarm_to_decision = cloudwatch.GraphWidget(
            title="Alarm to decision (s)",
            width=WIDTH // 3,
            height=6,
            left=[
                handler_metric(
                    contract.METRIC_ALARM_TO_DECISION_SECONDS, name, stat, 300, f"{stat.lower()}"
                )
                for stat in ("Average", "Maximum")
            ],
        )
        decision_to_desired = cloudwatch.GraphWidget(
            title="Decision to desired count set (s)",
            width=WIDTH // 3,
            height=6,
            left=[
                handler_metric(
                    contract.METRIC_DECISION_TO_DESIRED_SECONDS, name, stat, 300, f"{stat.lower()}"
                )
                for stat in ("Average", "Maximum")
            ],
        )
        forecast = cloudwatch.GraphWidget(
            title="Forecast floor vs desired copies",
            width=WIDTH // 3,
            height=6,
            left=[
                handler_metric(contract.METRIC_FORECAST_FLOOR, name, "Maximum", 300, "floor"),
                handler_metric(contract.METRIC_DESIRED_COPIES, name, "Maximum", 300, "desired"),
            ],
        )
        status = cloudwatch.AlarmStatusWidget(
            title="Scaling alarms",
            width=WIDTH,
            height=max(2, len(alarms) // 4 + 2),
            alarms=list(alarms),
        )
        # --- control-plane health: is the machinery that scales this endpoint working? -----
        health_status = cloudwatch.AlarmStatusWidget(
            title="Control plane health (operator alarms)",
            width=WIDTH // 3,
            height=max(6, len(health_alarms) // 3 + 2),
            alarms=list(health_alarms),
        )
        dead_letter_depth = cloudwatch.GraphWidget(
            title="Dead-letter messages",
            width=WIDTH // 3,
            height=6,
            left=[
                queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=Duration.minutes(1), label=label
                )
                for label, queue in dead_letters.items()
            ],
        )
        function_failures = cloudwatch.GraphWidget(
            title="Function errors and throttles",
            width=WIDTH // 3,
            height=6,
            left=[
                fn.metric_errors(
                    statistic="Sum", period=Duration.minutes(1), label=f"{label} errors"
                )
                for label, fn in functions.items()
            ],
            right=[
                fn.metric_throttles(
                    statistic="Sum", period=Duration.minutes(1), label=f"{label} throttles"
                )
                for label, fn in functions.items()
            ],
        )
        shortages = cloudwatch.GraphWidget(
            title="Capacity shortages and scaling errors",
            width=WIDTH,
            height=6,
            left=[
                handler_metric(contract.METRIC_CAPACITY_SHORTAGES, name, "Sum", 60, "shortages"),
                handler_metric(contract.METRIC_SCALING_ERRORS, name, "Sum", 60, "scaling errors"),
            ],
        )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{name}-scaling",
            widgets=[
                [concurrency, copies],
                [instances, decisions, forecast],
                [alarm_to_decision, decision_to_desired, scale_out_s],
                [status],
                [health_status, dead_letter_depth, function_failures],
                [shortages],
            ],
        )
