"""The SageMaker side of one endpoint: models, endpoint config, endpoint, inference components."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from config.fleet import ECR_IMAGE, Endpoint, Model

from .nag import acknowledge, nag_arn

_ECR_URI = ECR_IMAGE
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<prefix>.*)$")

# On a cache miss a new instance pulls a 17.7 GB image (333 s) while it downloads 16 GB of
# weights (168 s), and serves 525 s after it was asked for (AWS's Qwen3-8B test); SageMaker's
# defaults would give up sooner on a slow miss.
# 1200 s downloads and 900 s to pass the health check leave about 2x margin over that test.
MODEL_DATA_DOWNLOAD_TIMEOUT_S = 1200
CONTAINER_STARTUP_HEALTH_CHECK_TIMEOUT_S = 900


@dataclass(frozen=True)
class WeightsLocation:
    """What a model's execution role may read: ``objects`` is an S3 key pattern in ``bucket``."""

    bucket: str
    objects: str  # "models/qwen/*" for a prefix, "archives/qwen.tar.gz" for one object
    is_prefix: bool


def weights_location(model_data_url: str) -> WeightsLocation:
    """The objects behind ``model_data_url``, never more.

    A prefix is a folder: ``s3://shared/models/qwen`` and ``s3://shared/models/qwen/`` both mean
    the keys under ``models/qwen/`` (SageMaker copies ``S3Prefix`` data with the trailing ``/``,
    see ``_container``), so the grant is ``models/qwen/*`` and never ``models/qwen*``, which
    would also match ``models/qwen-secret-finetune/``. A ``.tar.gz`` is one object, granted by
    its exact key.
    """
    match = _S3_URI.match(model_data_url)
    if match is None:
        raise ValueError(f"{model_data_url!r} is not an S3 URI; allowed: s3://BUCKET/PREFIX")
    key = match["prefix"]
    if model_data_url.endswith(".tar.gz"):
        return WeightsLocation(match["bucket"], key, is_prefix=False)
    folder = key.rstrip("/")
    return WeightsLocation(match["bucket"], f"{folder}/*" if folder else "*", is_prefix=True)


@dataclass(frozen=True)
class EcrRepository:
    account: str
    region: str
    name: str


def ecr_repository(image_uri: str) -> EcrRepository:
    """The repository an ECR image URI points into (for a pull permission scoped to it)."""
    match = _ECR_URI.match(image_uri)
    if match is None:
        raise ValueError(
            f"{image_uri!r} is not an ECR image URI; allowed: "
            "ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG or @sha256:DIGEST"
        )
    return EcrRepository(match["account"], match["region"], match["repository"])


def sagemaker_arn(stack: Stack, resource: str, name: str) -> str:
    """The ARN of a SageMaker resource of this stack's account and region.

    SageMaker writes resource names in lower case inside ARNs (names are case-insensitive), and
    IAM compares ARNs case-sensitively: ``Chat-Model`` is ``.../inference-component/chat-model``.
    """
    return stack.format_arn(service="sagemaker", resource=resource, resource_name=name.lower())


def _container(model: Model, image_uri: str) -> sagemaker.CfnModel.ContainerDefinitionProperty:
    if model.model_data_url is None:
        # The LMI container downloads HF_MODEL_ID itself: a deploy needs no bucket.
        return sagemaker.CfnModel.ContainerDefinitionProperty(
            image=image_uri, environment=dict(model.environment)
        )
    if model.model_data_url.endswith(".tar.gz"):
        return sagemaker.CfnModel.ContainerDefinitionProperty(
            image=image_uri,
            environment=dict(model.environment),
            model_data_url=model.model_data_url,
        )
    # An S3 prefix of uncompressed files (what LMI loads fastest): SageMaker copies it to
    # /opt/ml/model without unpacking.
    return sagemaker.CfnModel.ContainerDefinitionProperty(
        image=image_uri,
        environment=dict(model.environment),
        model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
            s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                s3_uri=model.model_data_url.rstrip("/") + "/",
                s3_data_type="S3Prefix",
                compression_type="None",
            )
        ),
    )


class SageMakerEndpoint(Construct):
    """An inference-component endpoint: one ``CfnModel`` and one ``CfnInferenceComponent`` per
    model, an endpoint config with managed instance scaling, and the execution role they share.

    ``component_properties`` holds what CloudFormation is told about each component, and
    ``components_fingerprint`` a digest of it: CloudFormation resets ``CopyCount`` exactly when
    these change, which is when the reconcile hook must run (see ``stacks.lifecycle``).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, endpoint: Endpoint, images: Mapping[str, str]
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.endpoint_name = endpoint.name
        self.role = self._execution_role(endpoint, images)
        self.role_policy = self.role.node.find_child("DefaultPolicy")

        self.models: dict[str, sagemaker.CfnModel] = {}
        for model in endpoint.models:
            cfn_model = sagemaker.CfnModel(
                self,
                f"Model-{model.name}",
                model_name=model.model_resource_name,
                execution_role_arn=self.role.role_arn,
                primary_container=_container(model, images[model.component_name]),
                # With weights from S3, SageMaker fetches them and the container needs no
                # network at all; an HF_MODEL_ID model must download from the Hugging Face Hub.
                enable_network_isolation=model.model_data_url is not None,
            )
            # The role's policy must exist before SageMaker checks it can pull the image.
            cfn_model.node.add_dependency(self.role_policy)
            if model.model_data_url is None:
                acknowledge(
                    cfn_model,
                    "AwsSolutions-SM3",
                    "The LMI container downloads HF_MODEL_ID from the Hugging Face Hub, "
                    "which needs network access; models with s3_uri run network-isolated.",
                )
            acknowledge(
                cfn_model,
                "AwsSolutions-SM1",
                "No VPC is configured: the fleet file has no network settings and the "
                "LMI container reaches the model hub over SageMaker's managed network.",
            )
            self.models[model.name] = cfn_model

        publish_s = min(m.scaling.metric_publish_frequency_s for m in endpoint.models)
        policy = endpoint.scale_in_policy
        self.config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            execution_role_arn=self.role.role_arn,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=endpoint.variant_name,
                    instance_type=endpoint.instance_type,
                    # Inference-component endpoints start with at least one instance even when
                    # managed scaling may later release them all (MinInstanceCount 0).
                    initial_instance_count=endpoint.initial_instances,
                    managed_instance_scaling=(
                        sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                            status="ENABLED",
                            min_instance_count=endpoint.min_instances,
                            max_instance_count=endpoint.max_instances,
                            scale_in_policy=sagemaker.CfnEndpointConfig.ScaleInPolicyProperty(
                                strategy=policy.strategy,
                                cooldown_in_minutes=policy.cooldown_minutes,
                                maximum_step_size=policy.maximum_step_size,
                            ),
                        )
                    ),
                    routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                        routing_strategy="LEAST_OUTSTANDING_REQUESTS"
                    ),
                )
            ],
            # Both switches written out from the fleet file, so the template says which series
            # are published (and billed) instead of leaning on SageMaker's defaults (detailed
            # observability is True for new endpoint configs). The publish frequency is the models'
            # shortest; whether ConcurrentRequestsPerCopy follows it without enhanced metrics
            # is not settled by AWS's documents (docs/architecture.md, "Endpoint metrics").
            metrics_config=sagemaker.CfnEndpointConfig.MetricsConfigProperty(
                enable_enhanced_metrics=endpoint.enhanced_metrics,
                enable_detailed_observability=endpoint.detailed_observability,
                metric_publish_frequency_in_seconds=publish_s,
            ),
        )
        self.config.node.add_dependency(self.role_policy)
        acknowledge(
            self.config,
            "AwsSolutions-SM2",
            "GPU instance types with local NVMe storage (g5, g6, g6e, p4d, p5) reject a "
            "KmsKeyId on the endpoint config; their instance storage is hardware-encrypted.",
        )

        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint.name,
            endpoint_config_name=self.config.attr_endpoint_config_name,
        )

        self.components: dict[str, sagemaker.CfnInferenceComponent] = {}
        self.component_properties: dict[str, dict[str, Any]] = {}
        previous: sagemaker.CfnInferenceComponent | None = None
        for model in endpoint.models:
            properties = {
                "EndpointName": endpoint.name,
                "VariantName": endpoint.variant_name,
                "InferenceComponentName": model.component_name,
                "ModelName": model.model_resource_name,
                "Accelerators": model.accelerators,
                "MemoryMb": model.memory_mb,
                "CopyCount": model.initial_copies,
                "Image": images[model.component_name],
                "Environment": dict(sorted(model.environment.items())),
            }
            component = sagemaker.CfnInferenceComponent(
                self,
                f"Component-{model.name}",
                # aws-cdk-lib exposes no name attribute for inference components: the name is
                # set here and the dependencies are explicit.
                inference_component_name=model.component_name,
                endpoint_name=endpoint.name,
                variant_name=endpoint.variant_name,
                specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                    model_name=model.model_resource_name,
                    compute_resource_requirements=(
                        sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                            number_of_accelerator_devices_required=model.accelerators,
                            min_memory_required_in_mb=model.memory_mb,
                        )
                    ),
                    # A copy placed on a running instance reuses the image and weights there.
                    data_cache_config=sagemaker.CfnInferenceComponent.InferenceComponentDataCacheConfigProperty(
                        enable_caching=True
                    ),
                    startup_parameters=sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                        model_data_download_timeout_in_seconds=MODEL_DATA_DOWNLOAD_TIMEOUT_S,
                        container_startup_health_check_timeout_in_seconds=(
                            CONTAINER_STARTUP_HEALTH_CHECK_TIMEOUT_S
                        ),
                    ),
                ),
                runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(
                    copy_count=model.initial_copies
                ),
            )
            component.add_resource_dependency(self.endpoint)
            component.add_resource_dependency(self.models[model.name])
            # Each component operation updates the endpoint; SageMaker refuses a second one
            # while the first is in progress, so CloudFormation creates them one at a time.
            if previous is not None:
                component.add_resource_dependency(previous)
            previous = component
            self.components[model.component_name] = component
            self.component_properties[model.component_name] = properties

        self.components_fingerprint = hashlib.sha256(
            json.dumps(self.component_properties, sort_keys=True).encode()
        ).hexdigest()[:16]
        self.component_arns = [
            sagemaker_arn(stack, "inference-component", m.component_name) for m in endpoint.models
        ]
        self.endpoint_arn = sagemaker_arn(stack, "endpoint", endpoint.name)

    # --- grants: what others may do with this endpoint, by exact ARN ---------------------------

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Send requests to this endpoint (any of its inference components), streaming or not."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.endpoint_arn],
        )

    def grant_describe(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read the endpoint's and its inference components' status and copy counts."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeInferenceComponent"],
            resource_arns=[self.endpoint_arn, *self.component_arns],
        )

    def grant_update_components(self, grantee: iam.IGrantable) -> iam.Grant:
        """Change the copy count of this endpoint's inference components, and nothing else."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:UpdateInferenceComponentRuntimeConfig"],
            resource_arns=list(self.component_arns),
        )

    def _execution_role(self, endpoint: Endpoint, images: Mapping[str, str]) -> iam.Role:
        """The role SageMaker assumes: pull its images, read its weights, write its logs."""
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"SageMaker execution role of endpoint {endpoint.name}",
        )
        repositories = sorted(
            {ecr_repository(u) for u in images.values()},
            key=lambda r: (r.account, r.region, r.name),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PullImages",
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[
                    f"arn:{stack.partition}:ecr:{r.region}:{r.account}:repository/{r.name}"
                    for r in repositories
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
            )
        )
        log_groups = [
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"/aws/sagemaker/{kind}/{name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for kind, name in [("Endpoints", endpoint.name)]
            + [("InferenceComponents", m.component_name) for m in endpoint.models]
        ]
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=log_groups,
            )
        )
        acknowledgments = [
            (
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken has no resource-level permission; pulls themselves are "
                "limited to the image repositories in PullImages.",
            ),
        ]
        for arn in log_groups:
            acknowledgments.append(
                (
                    f"AwsSolutions-IAM5[Resource::{nag_arn(stack, arn)}]",
                    "Log streams are created by SageMaker with generated names inside this "
                    "endpoint's own log group.",
                )
            )
        for model in endpoint.models:
            if model.model_data_url is None:
                continue
            weights = weights_location(model.model_data_url)
            object_arn = f"arn:{stack.partition}:s3:::{weights.bucket}/{weights.objects}"
            role.add_to_policy(
                iam.PolicyStatement(
                    sid=f"ReadWeights{len(acknowledgments)}",
                    actions=["s3:GetObject"],
                    resources=[object_arn],
                )
            )
            if weights.is_prefix:
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["s3:ListBucket"],
                        resources=[f"arn:{stack.partition}:s3:::{weights.bucket}"],
                        conditions={"StringLike": {"s3:prefix": [weights.objects]}},
                    )
                )
                acknowledgments.append(
                    (
                        f"AwsSolutions-IAM5[Resource::{nag_arn(stack, object_arn)}]",
                        f"Model {model.name} reads every object under its weights prefix.",
                    )
                )
        for rule_id, reason in acknowledgments:
            acknowledge(role, rule_id, reason)
        return role
