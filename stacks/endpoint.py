"""The stack of one endpoint: its SageMaker resources and everything that scales them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from config.alarms import alarm_names
from config.fleet import ControlPlane, Endpoint

from .alarms import ComponentAlarms
from .assets import PowertoolsRelease
from .components import forecast_interval_minutes
from .dashboard import EndpointDashboard
from .events import EndpointEvents
from .functions import RETENTION_DAYS, ControlPlaneFunctions
from .health import ControlPlaneHealth, OperatorTopic
from .lifecycle import LifecycleHooks
from .sagemaker_endpoint import SageMakerEndpoint


class EndpointStack(Stack):
    """Endpoint, inference components, alarms, the endpoint's own control-plane functions,
    event rules, lifecycle hooks, operator alarms and dashboard.

    Each endpoint has its own functions and roles, so a fault or a bug acting for one endpoint
    is confined to it by IAM (see ``stacks.functions``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: Endpoint,
        control_plane: ControlPlane,
        table: dynamodb.ITable,
        images: Mapping[str, str],
        components_json: str,
        powertools: PowertoolsRelease,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.endpoint = endpoint
        self.sagemaker = SageMakerEndpoint(self, "SageMaker", endpoint=endpoint, images=images)
        self.functions = ControlPlaneFunctions(
            self,
            "ControlPlane",
            endpoint=endpoint,
            control_plane=control_plane,
            table=table,
            components_json=components_json,
            powertools=powertools,
            sagemaker=self.sagemaker,
            alarm_names=alarm_names(endpoint.models),
        )
        self.alarms = {
            m.component_name: ComponentAlarms(
                self, f"Alarms-{m.name}", model=m, scaler=self.functions.scaler
            )
            for m in endpoint.models
        }
        # An alarm that existed before its component would go INSUFFICIENT_DATA -> OK on a fresh
        # deploy and invoke the scaler for a component SageMaker does not know yet.
        for component_name, component_alarms in self.alarms.items():
            component_alarms.node.add_dependency(self.sagemaker.components[component_name])
        self.events = EndpointEvents(
            self,
            "Events",
            endpoint=endpoint,
            tracker=self.functions.tracker,
            cleanup=self.functions.cleanup,
            failures=self.functions.failures,
            forecaster=self.functions.forecaster,
            forecast_minutes=forecast_interval_minutes(endpoint),
        )
        self.hooks = LifecycleHooks(
            self,
            "Lifecycle",
            endpoint_name=endpoint.name,
            components=[m.component_name for m in endpoint.models],
            template_copies={m.component_name: m.initial_copies for m in endpoint.models},
            components_fingerprint=self.sagemaker.components_fingerprint,
            cleanup=self.functions.cleanup,
            scaler=self.functions.scaler,
            log_retention=RETENTION_DAYS[control_plane.log_retention_days],
        )
        # Cleanup is created before, and so deleted after, the endpoint and its components,
        # and after the rules that could still write rows for it.
        self.sagemaker.endpoint.node.add_dependency(self.hooks.cleanup)
        rules = [self.events.state_change, self.events.component_calls, self.events.poll]
        if self.events.forecast is not None:
            rules.append(self.events.forecast)
        for rule in rules:
            rule.node.add_dependency(self.hooks.cleanup)
        for component in self.sagemaker.components.values():
            component.node.add_dependency(self.hooks.cleanup)
            self.hooks.reconcile.node.add_dependency(component)

        self.operator = OperatorTopic(self, "Operator", notifications=control_plane.notifications)
        dead_letters = {
            "reevaluation-dlq": self.functions.reevaluation_dlq,
            "failed-invocations": self.functions.failures,
        }
        self.health = ControlPlaneHealth(
            self,
            "Health",
            endpoint=endpoint,
            functions=self.functions.functions,
            services=self.functions.services,
            dead_letters=dead_letters,
            topic=self.operator.topic,
        )

        self.dashboard = EndpointDashboard(
            self,
            "Dashboard",
            endpoint=endpoint,
            alarms=[a for c in self.alarms.values() for a in c.alarms.values()],
            health_alarms=self.health.alarms,
            functions=self.functions.functions,
            dead_letters=dead_letters,
        )

        CfnOutput(self, "EndpointName", value=endpoint.name)
        CfnOutput(self, "ReevaluationQueueUrl", value=self.functions.reevaluation_queue.queue_url)
        CfnOutput(self, "FailedInvocationsQueueUrl", value=self.functions.failures.queue_url)
        CfnOutput(self, "OperatorTopicArn", value=self.operator.topic.topic_arn)
