"""Thin adapters over SageMaker, CloudWatch and SQS, and the one place AWS errors get meaning.

Clients are built on first use (``client``) and cached for the life of the execution
environment: never at import time, so that an import stays cheap and tests can start moto
first. Each adapter accepts a client, so a test can hand it whatever it likes. The clients'
types come from types-boto3, a development dependency the Lambda runtime does not have: they
are imported for the type checker only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from types_boto3_cloudwatch import CloudWatchClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_sagemaker import SageMakerClient
    from types_boto3_sqs import SQSClient

T = TypeVar("T")

MAX_SQS_DELAY_S = 900  # SQS DelaySeconds ceiling

# Error codes that mean "slow down" on the services the control plane calls.
# SQS's is RequestThrottled (SendMessage when the queue's request rate is exceeded).
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
    }
)
CAPACITY_CODES = frozenset(
    {
        "ResourceLimitExceeded",
        "InsufficientCapacity",
        "InsufficientInstanceCapacity",
        "ServiceQuotaExceededException",
    }
)


class AwsFault(Exception):
    """A failed AWS call the control plane knows how to handle; ``code`` is AWS's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Busy(AwsFault):
    """The inference component is being created or updated: try again shortly."""


class Throttled(AwsFault):
    """Still throttled after the SDK's own retries: back off."""


class CapacityError(AwsFault):
    """A quota or capacity limit: retrying soon will not help."""


class NotFound(AwsFault):
    """The resource does not exist."""


class Rejected(AwsFault):
    """A ``ValidationException`` of no known meaning: SageMaker refused the request."""


def classify(error: Exception) -> Exception:
    """Map a botocore ``ClientError`` to the project's exceptions; others pass through."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return error
    code = str(response.get("Error", {}).get("Code", ""))
    message = str(response.get("Error", {}).get("Message", ""))
    if code in THROTTLING_CODES:
        return Throttled(code, message)
    if code in CAPACITY_CODES:
        return CapacityError(code, message)
    lowered = message.lower()
    if code == "ValidationException" and ("in-progress" in lowered or "in progress" in lowered):
        return Busy(code, message)
    if code in ("ValidationException", "ResourceNotFound", "ResourceNotFoundException") and (
        "could not find" in lowered or "not found" in lowered or "does not exist" in lowered
    ):
        return NotFound(code, message)
    if code == "ValidationException":
        return Rejected(code, message)
    return error


@cache
def client(service: str) -> Any:
    """A boto3 client for ``service``, built once per execution environment (``cache_clear``
    forgets them: tests and the demo build new ones per embedded AWS).

    Standard retry mode retries throttling with exponential backoff and jitter; 3 attempts keep
    a throttled invocation short (the scaler then defers through its queue rather than
    sleeping inside the function).
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10
    )
    return boto3.client(cast(Any, service), config=config)


def sagemaker() -> SageMakerClient:
    return cast("SageMakerClient", client("sagemaker"))


def dynamodb() -> DynamoDBClient:
    return cast("DynamoDBClient", client("dynamodb"))


def cloudwatch() -> CloudWatchClient:
    return cast("CloudWatchClient", client("cloudwatch"))


def sqs() -> SQSClient:
    return cast("SQSClient", client("sqs"))


def _call(fn: Callable[..., T], **kwargs: Any) -> T:
    from botocore.exceptions import ClientError

    try:
        return fn(**kwargs)
    except ClientError as exc:
        raise classify(exc) from exc


# --- SageMaker ---------------------------------------------------------------------------
# DescribeEndpoint's EndpointStatus values during which the endpoint itself is changing.
ENDPOINT_BUSY_STATUSES = frozenset(
    {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
)


@dataclass(frozen=True)
class ComponentObservation:
    name: str
    endpoint: str
    status: str
    desired_copies: int
    current_copies: int
    failure_reason: str | None = None

    @property
    def busy(self) -> bool:
        return self.status in ("Creating", "Updating", "Deleting")


def describe_component(sagemaker: SageMakerClient, name: str) -> ComponentObservation:
    raw = _call(sagemaker.describe_inference_component, InferenceComponentName=name)
    runtime = raw.get("RuntimeConfig") or {}
    return ComponentObservation(
        name,
        raw["EndpointName"],
        raw["InferenceComponentStatus"],
        int(runtime.get("DesiredCopyCount", 0)),
        int(runtime.get("CurrentCopyCount", 0)),
        raw.get("FailureReason"),
    )


def set_copy_count(sagemaker: SageMakerClient, name: str, copies: int) -> None:
    _call(
        sagemaker.update_inference_component_runtime_config,
        InferenceComponentName=name,
        DesiredRuntimeConfig={"CopyCount": copies},
    )


@dataclass(frozen=True)
class EndpointObservation:
    name: str
    status: str
    current_instances: int | None
    desired_instances: int | None
    failure_reason: str | None = None
    created_at: float | None = None  # CreationTime, epoch seconds

    @property
    def busy(self) -> bool:
        """An endpoint-level operation is running: SageMaker may refuse component updates."""
        return self.status in ENDPOINT_BUSY_STATUSES


def describe_endpoint(sagemaker: SageMakerClient, name: str) -> EndpointObservation:
    raw = _call(sagemaker.describe_endpoint, EndpointName=name)
    variants = raw.get("ProductionVariants") or []
    current = variants[0].get("CurrentInstanceCount") if variants else None
    desired = variants[0].get("DesiredInstanceCount") if variants else None
    created = raw.get("CreationTime")
    return EndpointObservation(
        name,
        raw.get("EndpointStatus", ""),
        int(current) if current is not None else None,
        int(desired) if desired is not None else None,
        raw.get("FailureReason"),
        created.timestamp() if isinstance(created, datetime) else None,
    )


# --- CloudWatch --------------------------------------------------------------------------
@dataclass(frozen=True)
class AlarmReading:
    state: str
    datapoints: tuple[float, ...]  # oldest first, over the alarm's evaluation window


# How far behind real time a datapoint may still arrive (publishing delay plus margin).
METRIC_LAG_S = 60


def read_alarm(cloudwatch: CloudWatchClient, alarm_name: str, now: float) -> AlarmReading | None:
    """The alarm's state now and its metric's recent datapoints (``None``: no such alarm).

    An alarm's state reason is written on transitions only, so while it stays in ALARM the
    numbers come from the metric itself, over the alarm's own window and statistic. Datapoints
    reach CloudWatch some tens of seconds after their period ends, so the query reaches back
    ``METRIC_LAG_S`` further and keeps the latest ``EvaluationPeriods`` values: with a 10 s
    period, 3 periods and a 30 s delay, the window [now - 30 s, now] alone would hold none.
    """
    alarms = _call(cloudwatch.describe_alarms, AlarmNames=[alarm_name]).get("MetricAlarms", [])
    if not alarms:
        return None
    alarm = alarms[0]
    period_s = int(alarm.get("Period") or 60)
    periods = int(alarm.get("EvaluationPeriods") or 1)
    stat = alarm.get("Statistic") or "Average"
    end = datetime.fromtimestamp(now, UTC)
    query = {
        "Id": "m",
        "MetricStat": {
            "Metric": {
                "Namespace": alarm["Namespace"],
                "MetricName": alarm["MetricName"],
                "Dimensions": alarm.get("Dimensions", []),
            },
            "Period": period_s,
            "Stat": stat,
        },
    }
    try:
        result = _call(
            cloudwatch.get_metric_data,
            MetricDataQueries=[query],
            StartTime=end - timedelta(seconds=period_s * periods + METRIC_LAG_S),
            EndTime=end,
            ScanBy="TimestampAscending",
        )
        values = (
            result["MetricDataResults"][0].get("Values", [])
            if result.get("MetricDataResults")
            else []
        )
        values = values[-periods:]
    except AwsFault:
        values = []  # the state is what matters; missing numbers are handled by decide
    return AlarmReading(alarm["StateValue"], tuple(float(v) for v in values))


# --- SQS ---------------------------------------------------------------------------------
def send_delayed(sqs: SQSClient, queue_url: str, body: str, delay_s: int) -> int:
    """Send ``body`` to arrive after ``delay_s`` (cut to SQS's 900 s); returns the delay used."""
    delay = max(0, min(MAX_SQS_DELAY_S, int(delay_s)))
    _call(sqs.send_message, QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay)
    return delay


def purge_queue(sqs: SQSClient, queue_url: str) -> str:
    """Drop every pending message; a purge already running counts as done."""
    try:
        _call(sqs.purge_queue, QueueUrl=queue_url)
    except AwsFault:
        raise
    except Exception as exc:  # botocore ClientError not classified above
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress"):
            return "purge already in progress"
        if code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return "queue already gone"
        raise
    return "purged"
