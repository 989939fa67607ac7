"""What the control plane's tests share: real-shaped events with the tests' fixed time and region
(built by ``localaws.events``), EMF parsing, a fake clock, a scaling spec with the default
fleet's numbers, and ``World``, two endpoints on moto with one state table and one re-evaluation
queue per endpoint (``tests/control_plane/conftest.py`` builds it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from config.alarms import (
    COMPONENT_DIMENSION,
    CONCURRENCY_METRIC,
    NO_CAPACITY_METRIC,
    SAGEMAKER_NAMESPACE,
    TREAT_MISSING_DATA,
)
from lambdas.control_plane import contract, settings
from lambdas.control_plane.decision import ReadyTimes, ScalingSpec, Step, Trigger
from localaws import events
from localaws.inference_components import InferenceComponentControl
from localaws.lambda_runtime import LambdaContext

REGION = "us-east-1"
TABLE = "fast-scale-state"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
READY_S = {"warm_instance": 30.0, "cached": 258.0, "uncached": 525.0}
# The context the tests invoke every handler with: the local runtime's stand-in for Powertools'
# LambdaContext, which the handlers declare (Powertools reads it on each invocation).
CONTEXT: Any = LambdaContext("control-plane-test", REGION)


def make_spec(endpoint: str, component: str, **overrides: Any) -> ScalingSpec:
    """The default fleet's thresholds and steps (8 per copy; +50/+100/+200 %), with
    max_step_copies cut to 4 so that tests can see the bound."""
    values: dict[str, Any] = dict(
        endpoint=endpoint,
        component=component,
        min_copies=1,
        max_copies=8,
        scale_out_threshold=8.0,
        scale_out_cooldown_s=60,
        steps=(Step(0.0, 50), Step(0.5, 100), Step(1.0, 200)),
        max_step_copies=4,
        scale_in_threshold=2.0,
        scale_in_cooldown_s=300,
        scale_in_step_copies=1,
        scale_in_datapoints=10,
        from_zero_copies=1,
        copies_per_instance=1,
        max_instances=8,
        ready_s=ReadyTimes(**READY_S),
    )
    values.update(overrides)
    return ScalingSpec(**values)


class FakeClock:
    """Seconds that move only when a test says so (shared by the handlers and the fake)."""

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Sent:
    queue_url: str
    body: str
    delay_s: int

    @property
    def message(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class World:
    clock: FakeClock
    sagemaker: Any
    dynamodb: Any
    cloudwatch: Any
    sqs: Any
    queues: dict[str, str]
    sent: list[Sent] = field(default_factory=list)
    control: InferenceComponentControl | None = None
    delivered: int = 0  # message ids of deliver(): unique per world, as SQS's are

    # --- SageMaker ---------------------------------------------------------------------------
    def copies(self, component: str) -> tuple[int, int]:
        """(desired, current) copies of ``component``."""
        rc = self.sagemaker.describe_inference_component(InferenceComponentName=component)[
            "RuntimeConfig"
        ]
        return rc["DesiredCopyCount"], rc["CurrentCopyCount"]

    def status(self, component: str) -> str:
        return str(
            self.sagemaker.describe_inference_component(InferenceComponentName=component)[
                "InferenceComponentStatus"
            ]
        )

    def set_copies(self, component: str, copies: int) -> None:
        """Change the copy count directly (what a redeploy or an operator does), then let
        the copies arrive."""
        self.sagemaker.update_inference_component_runtime_config(
            InferenceComponentName=component, DesiredRuntimeConfig={"CopyCount": copies}
        )
        self.clock.advance(READY_S["uncached"] + 1)

    # --- table -------------------------------------------------------------------------------
    def rows(self, endpoint: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": endpoint}},
        }
        while True:
            page = self.dynamodb.query(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def cache_state(self, endpoint: str, sk: str) -> str | None:
        """The ``state`` attribute of an IMAGE# or MODEL# row, ``None`` if there is none."""
        row = self.row(endpoint, sk)
        return str(row["state"]["S"]) if row else None

    def row_keys(self, endpoint: str, prefix: str = "") -> list[str]:
        return sorted(i["sk"]["S"] for i in self.rows(endpoint) if i["sk"]["S"].startswith(prefix))

    def row(self, endpoint: str, sk: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(
            TableName=TABLE, Key={"pk": {"S": endpoint}, "sk": {"S": sk}}
        ).get("Item")
        return dict(item) if item else None

    # --- CloudWatch --------------------------------------------------------------------------
    def put_concurrency(
        self, component: str, values: list[float], period_s: int = 10, lag_s: float = 0.0
    ) -> None:
        """Datapoints of ConcurrentRequestsPerCopy ending ``lag_s`` before now (CloudWatch's
        publishing delay), one per period, oldest first."""
        now = self.clock() - lag_s
        data = [
            {
                "MetricName": "ConcurrentRequestsPerCopy",
                "Dimensions": [{"Name": "InferenceComponentName", "Value": component}],
                "Timestamp": datetime.fromtimestamp(
                    now - period_s * (len(values) - 1 - i) - 1, UTC
                ),
                "Value": v,
                "StorageResolution": 1,
            }
            for i, v in enumerate(values)
        ]
        self.cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)

    def set_alarm(self, component: str, trigger: Trigger, state: str) -> None:
        self.cloudwatch.set_alarm_state(
            AlarmName=contract.alarm_name(component, trigger), StateValue=state, StateReason="test"
        )

    # --- events ------------------------------------------------------------------------------
    def reevaluations(self, endpoint: str = "ep-a") -> list[Sent]:
        return [s for s in self.sent if s.queue_url == self.queues[endpoint]]

    def deliver(
        self,
        sent: Sent,
        concurrency: list[float] | None = None,
        period_s: int = 10,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Deliver a message the scaler sent, as the SQS event source would, when it is due,
        with ``concurrency`` as the metric's datapoints up to that moment."""
        from lambdas.control_plane import scaler

        self.clock.advance(sent.delay_s)
        if concurrency:
            self.put_concurrency(json.loads(sent.body)["component"], concurrency, period_s)
        self.delivered += 1
        return scaler.handler(sqs_event(sent.body, message_id or f"m-{self.delivered}"), CONTEXT)


def alarm_event(
    component: str,
    trigger: Trigger,
    state: str,
    datapoints: list[float],
    timestamp: str = "2026-11-28T01:00:00.000+0000",
    period_s: int = 10,
    previous: str = "OK",
) -> dict[str, Any]:
    """The documented CloudWatch alarm → Lambda event."""
    reason = {
        "version": "1.0",
        "queryDate": timestamp,
        "startDate": timestamp,
        "statistic": "Average",
        "period": period_s,
        "recentDatapoints": datapoints,
        "threshold": 8.0,
        "evaluatedDatapoints": [
            {"timestamp": timestamp, "sampleCount": 1.0, "value": v} for v in datapoints
        ],
    }
    return events.alarm_event(
        contract.alarm_name(component, trigger),
        {COMPONENT_DIMENSION: component},
        state,
        previous,
        metric="ConcurrentRequestsPerCopy",
        statistic="Average",
        period_s=period_s,
        reason="Threshold Crossed",
        reason_data=json.dumps(reason),
        timestamp=timestamp,
        region=REGION,
    )


def sqs_event(body: str, message_id: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": "rh",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:q",
                "awsRegion": REGION,
            }
        ]
    }


def eventbridge(
    detail_type: str, detail: dict[str, Any], source: str = "aws.sagemaker", event_id: str = "e-1"
) -> dict[str, Any]:
    return events.eventbridge(
        detail_type,
        detail,
        source=source,
        timestamp="2026-11-28T01:00:00Z",
        region=REGION,
        event_id=event_id,
    )


def custom_resource(
    request_type: str,
    endpoint: str,
    components: list[str],
    resource_type: str = "Custom::Reconcile",
) -> dict[str, Any]:
    return events.custom_resource(
        request_type,
        endpoint,
        components,
        resource_type=resource_type,
        logical_id="Reconcile",
        physical_id=f"reconcile-{endpoint}",
        region=REGION,
        stack_name="s",
        request_id="r-1",
    )


def emf_metrics(stdout: str) -> list[dict[str, Any]]:
    """The EMF documents Powertools printed: name, value and dimensions of each metric."""
    found = []
    for line in stdout.splitlines():
        if not line.startswith("{") or "_aws" not in line:
            continue
        doc = json.loads(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                dims = {d: doc[d] for group in directive["Dimensions"] for d in group}
                found.append(
                    {
                        "namespace": directive["Namespace"],
                        "name": metric["Name"],
                        "value": doc[metric["Name"]],
                        "dimensions": dims,
                    }
                )
    return found


def _components_env(endpoint: str, specs: list[ScalingSpec]) -> str:
    return json.dumps(
        {
            s.component: {"spec": s.to_dict(), "image": IMAGE, "model": f"m-{s.component}"}
            for s in specs
        }
    )


ENDPOINTS = {"ep-a": ["chat-a", "zero-a"], "ep-b": ["chat-b"]}


def specs_for(endpoint: str) -> list[ScalingSpec]:
    out = []
    for name in ENDPOINTS[endpoint]:
        if name.startswith("zero"):
            out.append(make_spec(endpoint, name, min_copies=0))
        else:
            out.append(make_spec(endpoint, name))
    return out


def use_endpoint(
    monkeypatch: pytest.MonkeyPatch, world: World, endpoint: str, table: str = TABLE
) -> None:
    """Point the handlers' environment at ``endpoint`` (as its own functions would see it)."""
    monkeypatch.setenv(contract.ENV_TABLE_NAME, table)
    monkeypatch.setenv(contract.ENV_ENDPOINT_NAME, endpoint)
    monkeypatch.setenv(contract.ENV_COMPONENTS, _components_env(endpoint, specs_for(endpoint)))
    monkeypatch.setenv(contract.ENV_REEVALUATION_QUEUE_URL, world.queues[endpoint])
    monkeypatch.setenv(contract.ENV_HISTORY_TTL_DAYS, "30")
    settings.settings.cache_clear()


def create_endpoint(w: World, endpoint: str, components: list[str]) -> None:
    for name in components:
        w.sagemaker.create_model(
            ModelName=f"m-{name}",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": IMAGE, "Environment": {"HF_MODEL_ID": "Qwen/Qwen3-8B"}},
        )
    w.sagemaker.create_endpoint_config(
        EndpointConfigName=f"{endpoint}-config",
        ExecutionRoleArn=ROLE,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "InstanceType": "ml.g6.2xlarge",
                "InitialInstanceCount": 1,
                "ManagedInstanceScaling": {
                    "Status": "ENABLED",
                    "MinInstanceCount": 1,
                    "MaxInstanceCount": 8,
                },
                "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
            }
        ],
    )
    w.sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-config")
    for name in components:
        w.sagemaker.create_inference_component(
            InferenceComponentName=name,
            EndpointName=endpoint,
            VariantName="AllTraffic",
            Specification={
                "ModelName": f"m-{name}",
                "ComputeResourceRequirements": {
                    "NumberOfAcceleratorDevicesRequired": 1,
                    "MinMemoryRequiredInMb": 16384,
                },
            },
            RuntimeConfig={"CopyCount": 0 if name.startswith("zero") else 1},
        )
        # The default fleet's alarms as config/alarms.py defines them: scale-out Average 2 of
        # 3 x 10 s > 8, scale-in Average 10 of 10 x 60 s < 2, from-zero Sum 1 of 1 x 10 s > 0.
        alarms = {
            Trigger.SCALE_OUT: (
                CONCURRENCY_METRIC,
                "Average",
                10,
                3,
                2,
                8.0,
                "GreaterThanThreshold",
            ),
            Trigger.SCALE_IN: (CONCURRENCY_METRIC, "Average", 60, 10, 10, 2.0, "LessThanThreshold"),
            Trigger.FROM_ZERO: (NO_CAPACITY_METRIC, "Sum", 10, 1, 1, 0.0, "GreaterThanThreshold"),
        }
        for trigger, (metric, stat, period, periods, datapoints, threshold, op) in alarms.items():
            w.cloudwatch.put_metric_alarm(
                AlarmName=contract.alarm_name(name, trigger),
                Namespace=SAGEMAKER_NAMESPACE,
                MetricName=metric,
                Statistic=stat,
                Period=period,
                EvaluationPeriods=periods,
                DatapointsToAlarm=datapoints,
                Threshold=threshold,
                ComparisonOperator=op,
                TreatMissingData=TREAT_MISSING_DATA,
                Dimensions=[{"Name": COMPONENT_DIMENSION, "Value": name}],
            )
    # The first copies come up on the endpoint's initial instance: the image is now cached.
    w.clock.advance(READY_S["uncached"] + 1)
