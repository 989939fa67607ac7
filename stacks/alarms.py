"""The three alarms per inference component that invoke the scaler.

Each alarm calls the scaler directly (``LambdaAction``) on ALARM and on OK: ALARM starts a
scaling decision, OK tells the scaler to stop re-evaluating. An alarm invokes its actions only
on transitions, which is why the scaler keeps itself going through its re-evaluation queue.

Missing data, per alarm (``TreatMissingData``):

* scale-out, ``notBreaching``: SageMaker emits ``ConcurrentRequestsPerCopy`` every 10 s while
  copies exist; a missing datapoint means no copy reported load. With 2 of 3 datapoints one
  gap still lets a real spike fire within 30 s, and a component without copies is the
  scale-from-zero alarm's job.
* scale-in, ``notBreaching``: a missing datapoint never counts as "low", so a metric outage or a
  component without copies never removes capacity (fail closed).
* from-zero, ``notBreaching``: ``NoCapacityInvocationFailures`` is published only when a request
  failed for lack of a copy; no datapoint means no failure.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from config.alarms import (
    COMPONENT_DIMENSION,
    SAGEMAKER_NAMESPACE,
    alarm_plans,
)
from config.fleet import Model
from lambdas.control_plane.decision import Trigger

_MISSING_DATA = {
    "missing": cloudwatch.TreatMissingData.MISSING,
    "notBreaching": cloudwatch.TreatMissingData.NOT_BREACHING,
    "breaching": cloudwatch.TreatMissingData.BREACHING,
    "ignore": cloudwatch.TreatMissingData.IGNORE,
}
_OPERATORS = {
    "GreaterThanThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "LessThanThreshold": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
}


class ComponentAlarms(Construct):
    """The alarms of one inference component, each wired to the scaler on ALARM and OK."""

    def __init__(
        self, scope: Construct, construct_id: str, *, model: Model, scaler: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[Trigger, cloudwatch.Alarm] = {}
        action = actions.LambdaAction(scaler, use_unique_permission_id=True)
        for plan in alarm_plans(model):
            metric = cloudwatch.Metric(
                namespace=SAGEMAKER_NAMESPACE,
                metric_name=plan.metric,
                dimensions_map={COMPONENT_DIMENSION: model.component_name},
                statistic=plan.statistic,
                # aws-cdk-lib's Metric accepts 1, 5, 10, 30 or 60n s, while CloudWatch alarms
                # also take 20 s (PutMetricAlarm; cfn-lint's schema agrees): build 20 s on a
                # 10 s metric and set the alarm's own Period below.
                period=Duration.seconds(10 if plan.window.period_s == 20 else plan.window.period_s),
            )
            alarm = cloudwatch.Alarm(
                self,
                plan.trigger.value,
                alarm_name=plan.name,
                alarm_description=(
                    f"{plan.trigger.value} for inference component {model.component_name}: "
                    f"{plan.metric} {plan.statistic} {plan.symbol} "
                    f"{plan.threshold:g} in {plan.window.datapoints} of "
                    f"{plan.window.evaluation_periods} periods of {plan.window.period_s} s; "
                    "invokes the scaler on ALARM and OK"
                ),
                metric=metric,
                threshold=plan.threshold,
                comparison_operator=_OPERATORS[plan.comparison],
                evaluation_periods=plan.window.evaluation_periods,
                datapoints_to_alarm=plan.window.datapoints,
                treat_missing_data=_MISSING_DATA[plan.treat_missing_data],
            )
            if plan.window.period_s == 20:
                cfn_alarm = alarm.node.default_child
                assert isinstance(cfn_alarm, cloudwatch.CfnAlarm)
                cfn_alarm.add_property_override("Period", 20)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[plan.trigger] = alarm
