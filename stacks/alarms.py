"""The alarms per inference component that invoke the scaler: scale-out, surge (unless the
fleet file turns it off), scale-in and from-zero, each built from its ``config.alarms`` plan.

Each alarm calls the scaler directly (a Lambda alarm action) on ALARM and on OK: ALARM starts a
scaling decision, OK tells the scaler to stop re-evaluating. An alarm invokes its actions only
on transitions, which is why the scaler keeps itself going through its re-evaluation queue.

One invoke permission per component, for the alarms named ``<component>-*``, rather than one
per alarm: every permission is a statement of the scaler's resource-based policy, which Lambda
caps at 20 KB, and three or four statements of ~470 bytes per model would stop an endpoint at
about 10 to 14 models. The pattern also matches an alarm of another component whose name starts with
``<component>-``; the scaler refuses an alarm that is not one of its own components' (it
parses the name back to a component and trigger), so such an invocation changes nothing.

Missing data, per alarm (``TreatMissingData``):

* scale-out, ``notBreaching``: SageMaker emits ``ConcurrentRequestsPerCopy`` every 10 s while
  copies exist; a missing datapoint means no copy reported load. With 2 of 3 datapoints one
  gap still lets a real spike fire within 30 s, and a component without copies is the
  scale-from-zero alarm's job.
* surge, ``notBreaching``: one datapoint of the scale-out period at a multiple of its threshold;
  a missing datapoint is no spike, and the normal scale-out alarm still watches the window.
* scale-in, ``notBreaching``: a missing datapoint never counts as "low", so a metric outage or a
  component without copies never removes capacity (fail closed).
* from-zero, ``notBreaching``: ``NoCapacityInvocationFailures`` is published only when a request
  failed for lack of a copy; no datapoint means no failure.
"""

from __future__ import annotations

import jsii
from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
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


ALARMS_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"


@jsii.implements(cloudwatch.IAlarmAction)
class _InvokeFunction:
    """An alarm action that invokes ``function``; the permission is granted once per component
    (see the module docstring), where aws-cdk-lib's ``LambdaAction`` adds one per alarm."""

    def __init__(self, function: lambda_.IFunction) -> None:
        self._function = function

    def bind(self, scope: Construct, alarm: cloudwatch.IAlarm) -> cloudwatch.AlarmActionConfig:
        return cloudwatch.AlarmActionConfig(alarm_action_arn=self._function.function_arn)


class ComponentAlarms(Construct):
    """The alarms of one inference component, each wired to the scaler on ALARM and OK."""

    def __init__(
        self, scope: Construct, construct_id: str, *, model: Model, scaler: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[Trigger, cloudwatch.Alarm] = {}
        stack = Stack.of(self)
        self.invoke_permission = lambda_.CfnPermission(
            self,
            "InvokeScaler",
            action="lambda:InvokeFunction",
            function_name=scaler.function_arn,
            principal=ALARMS_PRINCIPAL,
            source_account=stack.account,
            source_arn=stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=f"{model.component_name}-*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
        )
        action = _InvokeFunction(scaler)
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
            # An alarm whose action may not yet invoke the scaler fails its first transitions.
            alarm.node.add_dependency(self.invoke_permission)
            self.alarms[plan.trigger] = alarm
