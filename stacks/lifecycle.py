"""Custom resources that run the control plane's code at deploy and destroy time.

* ``Cleanup`` (handled by the cleanup function): on Delete it purges the endpoint's rows and
  pending re-evaluations. The endpoint and its inference components depend on it, so
  CloudFormation deletes them first and runs the purge last, after the endpoint is gone (a row
  written while the endpoint was still being deleted is purged too).
* ``Reconcile`` (handled by the scaler): a CloudFormation update of an inference component sets
  ``CopyCount`` from the template, undoing what the scaler did. Reconcile depends on the
  components and its ``ComponentsFingerprint`` changes whenever any of their properties does, so
  it runs right after every update that can reset a copy count, and re-applies the count the
  scaler recorded.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CustomResource, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from .nag import acknowledge

CLEANUP_RESOURCE_TYPE = "Custom::SageMakerFastScaleCleanup"
RECONCILE_RESOURCE_TYPE = "Custom::SageMakerFastScaleReconcile"


class LifecycleHooks(Construct):
    """The ``Cleanup`` and ``Reconcile`` custom resources of one endpoint."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        components: list[str],
        template_copies: Mapping[str, int],
        components_fingerprint: str,
        cleanup: lambda_.IFunction,
        scaler: lambda_.IFunction,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        properties = {"EndpointName": endpoint_name, "Components": components}

        def provider(name: str, on_event: lambda_.IFunction) -> cr.Provider:
            log_group = logs.LogGroup(
                self,
                f"{name}ProviderLogs",
                retention=log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            )
            p = cr.Provider(self, f"{name}Provider", on_event_handler=on_event, log_group=log_group)
            acknowledge(
                p,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AWSLambdaBasicExecutionRole]",
                "The provider framework function of aws-cdk-lib's custom_resources "
                "only writes its own logs with this AWS managed policy.",
            )
            acknowledge(
                p,
                f"AwsSolutions-IAM5[Resource::<{_logical(on_event)}.Arn>:*]",
                "The provider framework may invoke any version of this endpoint's own "
                "handler function, and no other function.",
            )
            acknowledge(
                p, "AwsSolutions-L1", "The provider framework's runtime is chosen by aws-cdk-lib."
            )
            return p

        self.cleanup = CustomResource(
            self,
            "Cleanup",
            service_token=provider("Cleanup", cleanup).service_token,
            resource_type=CLEANUP_RESOURCE_TYPE,
            properties=properties,
        )
        self.reconcile = CustomResource(
            self,
            "Reconcile",
            service_token=provider("Reconcile", scaler).service_token,
            resource_type=RECONCILE_RESOURCE_TYPE,
            properties={
                **properties,
                "TemplateCopies": dict(template_copies),
                "ComponentsFingerprint": components_fingerprint,
            },
        )


def _logical(fn: lambda_.IFunction) -> str:
    from aws_cdk import Stack

    stack = Stack.of(fn)
    default_child = fn.node.default_child
    assert default_child is not None
    return stack.get_logical_id(default_child)  # type: ignore[arg-type]
