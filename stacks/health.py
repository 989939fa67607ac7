"""Operator alarms: what tells a person that the control plane itself is failing.

The scaling alarms (``stacks.alarms``) invoke the scaler; these notify an SNS topic instead:

* each dead-letter queue holds a message (the re-evaluation queue's DLQ, and the queue of
  asynchronous invocations and EventBridge deliveries that failed all their retries);
* each control-plane function reports errors or is throttled;
* the scaler counts ``ScalingErrors`` (an update refused for a reason it does not know) or the
  handlers count ``CapacityShortages`` (SageMaker accepted copies it could not place), per
  inference component;
* the state table throttles reads or writes (in the shared stack, ``TableHealth``).

Alarm and widget factories are cdk-monitoring-constructs' (``MonitoringFacade``): every alarm
there is named ``<prefix>-<what>-<kind>``, has its threshold next to it, and notifies the topic
on ALARM. Every threshold is "more than 0 in 5 minutes": each of these is worth a look.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cdk_monitoring_constructs as cmc
from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from config.fleet import Endpoint, Notifications
from lambdas.control_plane import contract

PERIOD = Duration.minutes(5)
CLOUDWATCH = "cloudwatch.amazonaws.com"


class OperatorTopic(Construct):
    """Where operator alarms go: the fleet's existing topic, or one of this stack's own.

    An own topic is encrypted with a customer-managed key, because CloudWatch alarms cannot
    publish to a topic encrypted with the AWS-managed SNS key; the key and the topic allow
    CloudWatch in this account only. An email address in the fleet file is subscribed (SNS
    asks it to confirm first). An existing topic's policy is its owner's: it must let
    CloudWatch alarms publish (docs/architecture.md, "Operator alarms").
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, notifications: Notifications
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.topic: sns.ITopic
        if notifications.topic_arn is not None:
            self.topic = sns.Topic.from_topic_arn(self, "Topic", notifications.topic_arn)
        else:
            key = kms.Key(
                self,
                "Key",
                description=f"Operator alarms topic of {stack.stack_name}",
                enable_key_rotation=True,
            )
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudWatchAlarmsOfThisAccount",
                    principals=[iam.ServicePrincipal(CLOUDWATCH)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # in a key policy, "*" is this key
                    conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                )
            )
            topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudWatchAlarmsOfThisAccount",
                    principals=[iam.ServicePrincipal(CLOUDWATCH)],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                )
            )
            self.topic = topic
        if notifications.email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(notifications.email))


def _facade(scope: Construct, prefix: str, topic: sns.ITopic) -> cmc.MonitoringFacade:
    """Alarms named ``<prefix>-...`` that notify ``topic``; no dashboards of its own (the
    endpoint's dashboard shows the alarms, see ``stacks.dashboard``)."""
    return cmc.MonitoringFacade(
        scope,
        "Monitoring",
        alarm_factory_defaults=cmc.AlarmFactoryDefaults(
            actions_enabled=True,
            alarm_name_prefix=prefix,
            action=cmc.SnsAlarmActionStrategy(on_alarm_topic=topic),
            datapoints_to_alarm=1,
            evaluation_periods=1,
        ),
        metric_factory_defaults=cmc.MetricFactoryDefaults(period=PERIOD),
        dashboard_factory=cmc.DefaultDashboardFactory(
            scope,
            "NoDashboards",
            dashboard_name_prefix=prefix,
            create_dashboard=False,
            create_summary_dashboard=False,
            create_alarm_dashboard=False,
        ),
    )


def handler_metric(
    metric_name: str,
    endpoint: str,
    component: str | None,
    services: Sequence[str],
) -> cloudwatch.MathExpression:
    """A handler metric as Powertools publishes it, summed over the functions that emit it.

    Powertools adds a ``service`` dimension (the function's POWERTOOLS_SERVICE_NAME), and an
    alarm cannot use SEARCH: one series per emitting function, missing data counted as 0.
    """
    dimensions = {contract.DIM_ENDPOINT: endpoint}
    if component is not None:
        dimensions[contract.DIM_COMPONENT] = component
    series = {
        f"m{i}": cloudwatch.Metric(
            namespace=contract.METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={**dimensions, "service": service},
            statistic="Sum",
            period=PERIOD,
        )
        for i, service in enumerate(services)
    }
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({name}, 0)" for name in series),
        using_metrics=series,
        label=f"{metric_name} {component or endpoint}",
        period=PERIOD,
    )


def _more_than_zero(description: str) -> cmc.CustomThreshold:
    return cmc.CustomThreshold(
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description_override=description,
    )


_DESCRIPTIONS = {
    contract.METRIC_SCALING_ERRORS: "The scaler could not apply a decision for {what} "
    "(ScalingErrors > 0 in 5 minutes): its log has the error, the table the decision.",
    contract.METRIC_CAPACITY_SHORTAGES: "SageMaker accepted copies of {what} it could not "
    "place (CapacityShortages > 0 in 5 minutes): instances of the type are short.",
}


class ControlPlaneHealth(Construct):
    """The operator alarms of one endpoint's control plane, to ``topic``.

    ``alarms`` holds every one of them (for the dashboard's health row).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: Endpoint,
        functions: Mapping[str, lambda_.IFunction],
        services: Mapping[str, str],
        dead_letters: Mapping[str, sqs.IQueue],
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        facade = _facade(self, f"{endpoint.name}-health", topic)
        for name, function in functions.items():
            facade.monitor_lambda_function(
                lambda_function=function,
                alarm_friendly_name=name,
                add_fault_count_alarm={
                    "Errors": cmc.ErrorCountThreshold(
                        max_error_count=0,
                        alarm_description_override=f"The {name} of endpoint {endpoint.name} "
                        "failed (Errors > 0 in 5 minutes): read its log group.",
                    )
                },
                add_throttles_count_alarm={
                    "Throttles": cmc.ErrorCountThreshold(
                        max_error_count=0,
                        alarm_description_override=f"The {name} of endpoint {endpoint.name} "
                        "was throttled (Throttles > 0 in 5 minutes): the account's Lambda "
                        "concurrency is exhausted.",
                    )
                },
            )
        for name, queue in dead_letters.items():
            facade.monitor_sqs_queue(
                queue=queue,
                alarm_friendly_name=name,
                add_queue_max_size_alarm={
                    "NotEmpty": cmc.MaxMessageCountThreshold(
                        max_message_count=0,
                        # An empty queue stops publishing after a while: that is not a failure.
                        treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                        alarm_description_override=f"The {name} queue of endpoint "
                        f"{endpoint.name} holds messages that failed every retry: inspect "
                        "them (each body is the event that failed), then purge or redrive.",
                    )
                },
            )
        emitters = sorted(services.values())
        scaling: list[cmc.CustomMetricWithAlarm] = [
            cmc.CustomMetricWithAlarm(
                metric=handler_metric(
                    contract.METRIC_SCALING_ERRORS, endpoint.name, None, emitters
                ),
                alarm_friendly_name=contract.METRIC_SCALING_ERRORS,
                add_alarm={
                    "Endpoint": _more_than_zero(
                        _DESCRIPTIONS[contract.METRIC_SCALING_ERRORS].format(
                            what=f"endpoint {endpoint.name} (no single component)"
                        )
                    )
                },
            )
        ]
        for model in endpoint.models:
            for metric_name in (contract.METRIC_SCALING_ERRORS, contract.METRIC_CAPACITY_SHORTAGES):
                scaling.append(
                    cmc.CustomMetricWithAlarm(
                        metric=handler_metric(
                            metric_name, endpoint.name, model.component_name, emitters
                        ),
                        alarm_friendly_name=f"{metric_name}-{model.name}",
                        add_alarm={
                            "Component": _more_than_zero(
                                _DESCRIPTIONS[metric_name].format(
                                    what=f"inference component {model.component_name}"
                                )
                            )
                        },
                    )
                )
        facade.monitor_custom(
            alarm_friendly_name="scaling",
            metric_groups=[
                cmc.CustomMetricGroup(title="Scaling errors and shortages", metrics=scaling)
            ],
        )
        self.alarms: list[cloudwatch.IAlarm] = [a.alarm for a in facade.created_alarms()]


class TableHealth(Construct):
    """Throttled reads and writes of the shared state table (on-demand tables throttle too,
    past their previous peak or a partition's limits), to ``topic``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, table: dynamodb.ITable, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, construct_id)
        facade = _facade(self, "sagemaker-fast-scale", topic)
        facade.monitor_dynamo_table(
            table=table,
            alarm_friendly_name="table",
            add_read_throttled_events_count_alarm={
                "Reads": cmc.ThrottledEventsThreshold(max_throttled_events_threshold=0)
            },
            add_write_throttled_events_count_alarm={
                "Writes": cmc.ThrottledEventsThreshold(max_throttled_events_threshold=0)
            },
        )
        self.alarms: list[cloudwatch.IAlarm] = [a.alarm for a in facade.created_alarms()]
