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

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from config.fleet import AlarmWindow, Model
from lambdas.control_plane import contract
from lambdas.control_plane.decision import Trigger

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
CONCURRENCY_METRIC = "ConcurrentRequestsPerCopy"
NO_CAPACITY_METRIC = "NoCapacityInvocationFailures"


@dataclass(frozen=True)
class AlarmPlan:
    """One alarm as the summary and the stack both describe it."""

    name: str
    trigger: Trigger
    metric: str
    statistic: str
    comparison: cloudwatch.ComparisonOperator
    threshold: float
    window: AlarmWindow

    @property
    def detects_within_s(self) -> int:
        """Earliest the alarm can fire after the condition starts: M datapoints of the period."""
        return self.window.period_s * self.window.datapoints


def alarm_plans(model: Model) -> list[AlarmPlan]:
    """The scale-out, scale-in and from-zero alarms of ``model``'s inference component."""
    s = model.scaling
    component = model.component_name
    return [
        AlarmPlan(contract.alarm_name(component, Trigger.SCALE_OUT), Trigger.SCALE_OUT,
                  CONCURRENCY_METRIC, "Average",
                  cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  s.scale_out.threshold, s.scale_out.alarm),
        AlarmPlan(contract.alarm_name(component, Trigger.SCALE_IN), Trigger.SCALE_IN,
                  CONCURRENCY_METRIC, "Average",
                  cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                  s.scale_in.threshold, s.scale_in.alarm),
        AlarmPlan(contract.alarm_name(component, Trigger.FROM_ZERO), Trigger.FROM_ZERO,
                  NO_CAPACITY_METRIC, "Sum",
                  cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, 0, s.from_zero.alarm),
    ]


def alarm_names(models: list[Model] | tuple[Model, ...]) -> list[str]:
    return [plan.name for m in models for plan in alarm_plans(m)]


class ComponentAlarms(Construct):
    """The alarms of one inference component, each wired to the scaler on ALARM and OK."""

    def __init__(self, scope: Construct, construct_id: str, *, model: Model,
                 scaler: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[Trigger, cloudwatch.Alarm] = {}
        action = actions.LambdaAction(scaler, use_unique_permission_id=True)
        for plan in alarm_plans(model):
            metric = cloudwatch.Metric(
                namespace=SAGEMAKER_NAMESPACE,
                metric_name=plan.metric,
                dimensions_map={"InferenceComponentName": model.component_name},
                statistic=plan.statistic,
                # aws-cdk-lib's Metric accepts 1, 5, 10, 30 or 60n s, while CloudWatch alarms
                # also take 20 s (PutMetricAlarm; cfn-lint's schema agrees): build 20 s on a
                # 10 s metric and set the alarm's own Period below.
                period=Duration.seconds(10 if plan.window.period_s == 20
                                        else plan.window.period_s),
            )
            alarm = cloudwatch.Alarm(
                self, plan.trigger.value,
                alarm_name=plan.name,
                alarm_description=(
                    f"{plan.trigger.value} for inference component {model.component_name}: "
                    f"{plan.metric} {plan.statistic} {_symbol(plan.comparison)} "
                    f"{plan.threshold:g} in {plan.window.datapoints} of "
                    f"{plan.window.evaluation_periods} periods of {plan.window.period_s} s; "
                    "invokes the scaler on ALARM and OK"),
                metric=metric,
                threshold=plan.threshold,
                comparison_operator=plan.comparison,
                evaluation_periods=plan.window.evaluation_periods,
                datapoints_to_alarm=plan.window.datapoints,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            if plan.window.period_s == 20:
                cfn_alarm = alarm.node.default_child
                assert isinstance(cfn_alarm, cloudwatch.CfnAlarm)
                cfn_alarm.add_property_override("Period", 20)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[plan.trigger] = alarm


def _symbol(comparison: cloudwatch.ComparisonOperator) -> str:
    return {
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD: ">",
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD: "<",
    }.get(comparison, str(comparison))
