"""The fleet created in the embedded AWS (``localaws.server``) through boto3.

moto's CloudFormation cannot create inference components, inference-component endpoint configs
or GPU instance types, so the demo does not deploy the synthesized templates: it makes the same
API calls the stacks' resources stand for (table with the control-plane stack's keys and TTL,
one re-evaluation queue and dead-letter queue per endpoint, models, an inference-component
endpoint config, endpoint, inference components, and the three alarms per component named by
``contract.alarm_name``), with the values the stacks take from the same fleet file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from config.alarms import (
    COMPONENT_DIMENSION,
    SAGEMAKER_NAMESPACE,
    AlarmPlan,
    alarm_plans,
)
from config.fleet import Endpoint, Fleet
from lambdas.control_plane import contract, state
from localaws.events import ACCOUNT_ID

TABLE_NAME = "SageMakerFastScale-state"


@dataclass
class Created:
    """Names and URLs of what ``create_fleet`` made."""

    table_name: str
    queue_urls: dict[str, str]  # endpoint -> re-evaluation queue
    queue_names: dict[str, str]
    alarms: dict[str, list[AlarmPlan]]  # component -> alarms
    images: dict[str, str]  # component -> image URI


def alarm_description(plan: AlarmPlan) -> str:
    return f"{plan.trigger.value} for inference component {plan.component}"


def function_arn(region: str, endpoint: str, function: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{endpoint}-{function}"


def create_endpoint(sm: Any, endpoint: Endpoint, images: dict[str, str], role_arn: str) -> None:
    """The endpoint stack's SageMaker resources for ``endpoint``: each model (``images``: its
    image URI by component name), the endpoint config with managed instance scaling, the
    endpoint, and each inference component with its initial copies."""
    for model in endpoint.models:
        container: dict[str, Any] = {
            "Image": images[model.component_name],
            "Environment": dict(model.environment),
        }
        if model.model_data_url is not None:
            container["ModelDataUrl"] = model.model_data_url
        sm.create_model(
            ModelName=model.model_resource_name,
            ExecutionRoleArn=role_arn,
            PrimaryContainer=container,
        )
    policy = endpoint.scale_in_policy
    config_name = f"{endpoint.name}-config"
    sm.create_endpoint_config(
        EndpointConfigName=config_name,
        ExecutionRoleArn=role_arn,
        ProductionVariants=[
            {
                "VariantName": endpoint.variant_name,
                "InstanceType": endpoint.instance_type,
                "InitialInstanceCount": endpoint.initial_instances,
                "ManagedInstanceScaling": {
                    "Status": "ENABLED",
                    "MinInstanceCount": endpoint.min_instances,
                    "MaxInstanceCount": endpoint.max_instances,
                    "ScaleInPolicy": {
                        "Strategy": policy.strategy,
                        "CooldownInMinutes": policy.cooldown_minutes,
                        "MaximumStepSize": policy.maximum_step_size,
                    },
                },
                "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
            }
        ],
    )
    sm.create_endpoint(EndpointName=endpoint.name, EndpointConfigName=config_name)
    for model in endpoint.models:
        sm.create_inference_component(
            InferenceComponentName=model.component_name,
            EndpointName=endpoint.name,
            VariantName=endpoint.variant_name,
            Specification={
                "ModelName": model.model_resource_name,
                "ComputeResourceRequirements": {
                    "NumberOfAcceleratorDevicesRequired": float(model.accelerators),
                    "MinMemoryRequiredInMb": model.memory_mb,
                },
                "DataCacheConfig": {"EnableCaching": True},
            },
            RuntimeConfig={"CopyCount": model.initial_copies},
        )


def create_fleet(
    clients: dict[str, Any], fleet: Fleet, endpoints: list[Endpoint], images: dict[str, str]
) -> Created:
    """Create the state table, queues, SageMaker resources and alarms of ``endpoints``."""
    ddb, sqs, sm, cw, iam = (
        clients[k] for k in ("dynamodb", "sqs", "sagemaker", "cloudwatch", "iam")
    )
    # --- the control-plane stack's table: pk/sk strings, on demand, PITR, SSE, TTL -----------
    ddb.create_table(
        TableName=TABLE_NAME,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": contract.TABLE_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": contract.TABLE_SORT_KEY, "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": contract.TABLE_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": contract.TABLE_SORT_KEY, "KeyType": "RANGE"},
        ],
        SSESpecification={"Enabled": True},
    )
    ddb.update_time_to_live(
        TableName=TABLE_NAME,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": contract.TABLE_TTL_ATTRIBUTE},
    )
    ddb.update_continuous_backups(
        TableName=TABLE_NAME, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    role_arn = iam.create_role(
        RoleName="SageMakerFastScale-execution",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    queue_urls: dict[str, str] = {}
    queue_names: dict[str, str] = {}
    alarms: dict[str, list[AlarmPlan]] = {}
    for endpoint in endpoints:
        # --- the endpoint stack's functions: re-evaluation queue with its dead letters --------
        dlq_url = sqs.create_queue(
            QueueName=f"{endpoint.name}-reevaluation-dlq",
            Attributes={"MessageRetentionPeriod": str(contract.DEAD_LETTER_RETENTION_S)},
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        name = f"{endpoint.name}-reevaluation"
        queue_urls[endpoint.name] = sqs.create_queue(
            QueueName=name,
            Attributes={
                "MessageRetentionPeriod": str(contract.REEVALUATION_RETENTION_S),
                "RedrivePolicy": json.dumps(
                    {
                        "deadLetterTargetArn": dlq_arn,
                        "maxReceiveCount": contract.REEVALUATION_MAX_RECEIVES,
                    }
                ),
            },
        )["QueueUrl"]
        queue_names[endpoint.name] = name
        # --- the endpoint stack's SageMaker resources ----------------------------------------
        create_endpoint(sm, endpoint, images, role_arn)
        for model in endpoint.models:
            # --- the three alarms, each invoking the endpoint's scaler on ALARM and OK -------
            scaler = function_arn(fleet.region, endpoint.name, "scaler")
            defs = alarm_plans(model)
            for a in defs:
                cw.put_metric_alarm(
                    AlarmName=a.name,
                    Namespace=SAGEMAKER_NAMESPACE,
                    MetricName=a.metric,
                    Dimensions=[{"Name": COMPONENT_DIMENSION, "Value": a.component}],
                    Statistic=a.statistic,
                    Period=a.period_s,
                    EvaluationPeriods=a.evaluation_periods,
                    DatapointsToAlarm=a.datapoints,
                    Threshold=a.threshold,
                    ComparisonOperator=a.comparison,
                    TreatMissingData=a.treat_missing_data,
                    ActionsEnabled=True,
                    AlarmActions=[scaler],
                    OKActions=[scaler],
                    AlarmDescription=alarm_description(a),
                )
            alarms[model.component_name] = defs
    return Created(TABLE_NAME, queue_urls, queue_names, alarms, dict(images))


def partition_rows(ddb: Any, table: str, endpoint: str) -> dict[str, dict[str, Any]]:
    """Every state row of ``endpoint``'s partition, keyed by sort key (raw DynamoDB attributes).

    Cleanup's deletion marker (``state.TOMBSTONE_KEY``, expiring a day later) is left out: it
    records that the endpoint is gone so that late writers cannot re-create its rows, and holds
    no state of the endpoint itself.
    """
    rows: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": contract.TABLE_PARTITION_KEY},
        "ExpressionAttributeValues": {":pk": {"S": endpoint}},
        "ConsistentRead": True,
    }
    while True:
        page = ddb.query(**kwargs)
        for item in page.get("Items", []):
            if item[contract.TABLE_SORT_KEY]["S"] != state.TOMBSTONE_KEY:
                rows[item[contract.TABLE_SORT_KEY]["S"]] = item
        if not page.get("LastEvaluatedKey"):
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
