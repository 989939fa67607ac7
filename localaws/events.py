"""Real-shaped events for the control plane's handlers, shared by the tests and the local demo.

No pytest and no AWS client here: time, region and account are parameters, so the demo stamps
its simulated clock and the tests their fixed ones.

Shapes: the CloudWatch alarm -> Lambda event (Amazon CloudWatch User Guide, "Using Amazon
CloudWatch alarms", Lambda alarm actions), EventBridge events (EventBridge User Guide, "Amazon
EventBridge events"), among them SageMaker's endpoint state changes (SageMaker Developer Guide,
"Automating SageMaker with Amazon EventBridge"), CloudTrail's API calls ("AWS API Call via
CloudTrail") and the scheduled rule's event, and the CloudFormation custom resource request
(CloudFormation User Guide, "Custom resource request objects").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account


def alarm_time(epoch_s: float) -> str:
    """CloudWatch's timestamp format in alarm events: 2026-01-05T09:10:50.000+0000."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def event_time(epoch_s: float) -> str:
    """EventBridge's (and CloudTrail's) timestamp format, whole seconds: 2026-01-05T09:10:50Z."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def alarm_event(
    alarm_name: str,
    dimensions: Mapping[str, str],
    state: str,
    previous: str,
    *,
    metric: str,
    statistic: str,
    period_s: int,
    reason: str,
    reason_data: str,
    timestamp: str,
    region: str,
    account: str = ACCOUNT_ID,
    description: str = "",
    namespace: str = "AWS/SageMaker",
) -> dict[str, Any]:
    """The event a CloudWatch alarm's Lambda action sends on a transition to ``state``, for an
    alarm on one metric with ``dimensions`` (name -> value)."""
    return {
        "source": "aws.cloudwatch",
        "alarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}",
        "accountId": account,
        "time": timestamp,
        "region": region,
        "alarmData": {
            "alarmName": alarm_name,
            "state": {
                "value": state,
                "reason": reason,
                "reasonData": reason_data,
                "timestamp": timestamp,
            },
            "previousState": {"value": previous, "reason": "", "timestamp": timestamp},
            "configuration": {
                "description": description,
                "metrics": [
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm_name)),
                        "returnData": True,
                        "metricStat": {
                            "metric": {
                                "namespace": namespace,
                                "name": metric,
                                "dimensions": dict(dimensions),
                            },
                            "period": period_s,
                            "stat": statistic,
                        },
                    }
                ],
            },
        },
    }


def eventbridge(
    detail_type: str,
    detail: dict[str, Any],
    *,
    source: str,
    timestamp: str,
    region: str,
    account: str = ACCOUNT_ID,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An EventBridge event as a rule's Lambda target receives it (``timestamp`` in whole
    seconds, ``YYYY-MM-DDTHH:MM:SSZ``)."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": timestamp,
        "region": region,
        "resources": [],
        "detail": detail,
    }


def endpoint_state_change(
    endpoint: str, status: str, *, timestamp: str, region: str, account: str = ACCOUNT_ID
) -> dict[str, Any]:
    """SageMaker's ``SageMaker Endpoint State Change`` event for ``endpoint`` (its config named
    ``<endpoint>-config``, as the stacks name it) entering ``status``."""
    return eventbridge(
        "SageMaker Endpoint State Change",
        {
            "EndpointName": endpoint,
            "EndpointArn": f"arn:aws:sagemaker:{region}:{account}:endpoint/{endpoint.lower()}",
            "EndpointStatus": status,
            "EndpointConfigName": f"{endpoint}-config",
            "Tags": {},
        },
        source="aws.sagemaker",
        timestamp=timestamp,
        region=region,
        account=account,
    )


def scheduled(*, timestamp: str, region: str, account: str = ACCOUNT_ID) -> dict[str, Any]:
    """The ``Scheduled Event`` a rate or cron rule sends its target."""
    return eventbridge(
        "Scheduled Event",
        {},
        source="aws.events",
        timestamp=timestamp,
        region=region,
        account=account,
    )


def cloudtrail_call(
    event_name: str,
    request: dict[str, Any],
    *,
    timestamp: str,
    region: str,
    account: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """CloudTrail's ``AWS API Call via CloudTrail`` event for a SageMaker management call
    ``event_name`` with its ``requestParameters``."""
    return eventbridge(
        "AWS API Call via CloudTrail",
        {
            "eventVersion": "1.09",
            "eventSource": "sagemaker.amazonaws.com",
            "eventName": event_name,
            "awsRegion": region,
            "eventType": "AwsApiCall",
            "eventTime": timestamp,
            "requestParameters": request,
            "responseElements": None,
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
        },
        source="aws.sagemaker",
        timestamp=timestamp,
        region=region,
        account=account,
    )


def custom_resource(
    request_type: str,
    endpoint: str,
    components: list[str],
    *,
    resource_type: str,
    logical_id: str,
    physical_id: str,
    region: str,
    stack_name: str,
    account: str = ACCOUNT_ID,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The Provider framework's onEvent request for a custom resource of the stack; ``Create``
    has no ``PhysicalResourceId`` yet."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": f"arn:aws:lambda:{region}:{account}:function:provider",
        "ResponseURL": "https://cloudformation-custom-resource-response.invalid/",
        "StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack_name}/local",
        "RequestId": request_id or str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": {
            "ServiceToken": "provider",
            "EndpointName": endpoint,
            "Components": components,
        },
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = physical_id
    return event
