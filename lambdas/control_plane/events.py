"""The events the control plane receives, parsed into typed objects before anything acts.

Every parser raises ``EventError`` naming the field at fault and what is allowed; nothing has
been read or written by then, so a malformed event changes nothing. Input is bounded before it
is decoded (``event_fields``). The parsers live by source:

=====================  =======================================================================
``event_fields``       the errors, the bounds, bounded JSON, checked fields, ``metric_period``
                       and ``metric_stat`` (one rule for the alarm path and the queue path)
``alarm_events``       the CloudWatch alarm → Lambda event
``queue_messages``     the scaler's own SQS messages: re-evaluations and deferred reconciles
this module            CloudFormation custom resources and EventBridge events; and every name
                       of the three modules above, so ``from .events import X`` names them all
=====================  =======================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import contract
from .alarm_events import (
    ALARM_STATES,
    REASON_DATA_MAX_CHARS,
    AlarmEvent,
    is_alarm_event,
    parse_alarm_event,
)
from .event_fields import (
    JSON_MAX_DEPTH,
    JSON_MAX_INT_DIGITS,
    NAME_MAX_CHARS,
    PERIOD_MAX_S,
    STANDARD_STATS,
    EventError,
    ForeignEndpoint,
    UnknownComponent,
    bounded_json,
    metric_period,
    metric_stat,
    name_at,
    show,
    value_at,
)
from .queue_messages import (
    CHAIN_ID_MAX_CHARS,
    MAX_ATTEMPT,
    MAX_COPIES,
    QUEUE_BODY_MAX_CHARS,
    QueueMessage,
    ReconcileRequest,
    Reevaluation,
    is_sqs_event,
    parse_queue_message,
    parse_reevaluation,
)

__all__ = [
    "ALARM_STATES",
    "API_CALL",
    "CHAIN_ID_MAX_CHARS",
    "ENDPOINT_STATE_CHANGE",
    "JSON_MAX_DEPTH",
    "JSON_MAX_INT_DIGITS",
    "MAX_ATTEMPT",
    "MAX_COMPONENTS",
    "MAX_COPIES",
    "NAME_MAX_CHARS",
    "PERIOD_MAX_S",
    "PHYSICAL_ID_MAX_CHARS",
    "QUEUE_BODY_MAX_CHARS",
    "REASON_DATA_MAX_CHARS",
    "REQUEST_TYPES",
    "SCHEDULED",
    "STANDARD_STATS",
    "AlarmEvent",
    "ApiCallEvent",
    "CustomResourceEvent",
    "EndpointStateEvent",
    "EventBridgeEvent",
    "EventError",
    "ForeignEndpoint",
    "QueueMessage",
    "ReconcileRequest",
    "Reevaluation",
    "ScheduledEvent",
    "UnknownComponent",
    "bounded_json",
    "is_alarm_event",
    "is_custom_resource_event",
    "is_sqs_event",
    "metric_period",
    "metric_stat",
    "parse_alarm_event",
    "parse_custom_resource",
    "parse_eventbridge",
    "parse_queue_message",
    "parse_reevaluation",
    "show",
]


# --- CloudFormation custom resources (CDK Provider framework onEvent) ------------------------
REQUEST_TYPES = ("Create", "Update", "Delete")
MAX_COMPONENTS = 100  # component names one custom resource may list


@dataclass(frozen=True)
class CustomResourceEvent:
    request_type: str
    endpoint: str
    components: tuple[str, ...]
    physical_id: str | None
    properties: Mapping[str, Any]


def is_custom_resource_event(event: Any) -> bool:
    return isinstance(event, Mapping) and "RequestType" in event


PHYSICAL_ID_MAX_CHARS = 1024  # CloudFormation's limit on a physical resource id


def parse_custom_resource(event: Any) -> CustomResourceEvent:
    request_type = value_at(event, "RequestType", str)
    if request_type not in REQUEST_TYPES:
        raise EventError(f"RequestType {show(request_type)} is not one of {REQUEST_TYPES}")
    properties = value_at(event, "ResourceProperties", Mapping)
    endpoint = name_at(properties, "EndpointName")
    raw = properties.get("Components", [])
    names = list(raw) if isinstance(raw, Mapping | list) else None
    if (
        names is None
        or len(names) > MAX_COMPONENTS
        or not all(isinstance(c, str) and 0 < len(c) <= NAME_MAX_CHARS for c in names)
    ):
        raise EventError(
            "ResourceProperties.Components must be a list of component names "
            f"(or an object keyed by them), at most {MAX_COMPONENTS} names of at most "
            f"{NAME_MAX_CHARS} chars"
        )
    physical = event.get("PhysicalResourceId")
    if physical is not None and (
        not isinstance(physical, str) or not 0 < len(physical) <= PHYSICAL_ID_MAX_CHARS
    ):
        raise EventError(
            f"PhysicalResourceId must be a string of 1 to {PHYSICAL_ID_MAX_CHARS} chars, "
            f"got {show(physical)}"
        )
    return CustomResourceEvent(request_type, endpoint, tuple(names), physical, properties)


# --- EventBridge: SageMaker state changes, CloudTrail API calls, schedules --------------------
# Detail types and call names are the contract's (the stacks' rules subscribe with the same).
ENDPOINT_STATE_CHANGE = contract.DETAIL_ENDPOINT_STATE_CHANGE
API_CALL = contract.DETAIL_API_CALL
SCHEDULED = contract.DETAIL_SCHEDULED


@dataclass(frozen=True)
class EndpointStateEvent:
    endpoint: str
    status: str
    event_id: str
    time: float | None = None  # when it happened (the event's ``time``), epoch seconds


@dataclass(frozen=True)
class ApiCallEvent:
    event_name: str
    endpoint: str | None
    component: str | None
    event_id: str
    error_code: str | None
    time: float | None = None


@dataclass(frozen=True)
class ScheduledEvent:
    event_id: str


EventBridgeEvent = EndpointStateEvent | ApiCallEvent | ScheduledEvent


def _event_time(event: Mapping[str, Any]) -> float | None:
    """EventBridge's ``time`` (ISO 8601, e.g. 2026-11-28T01:00:00Z) as epoch seconds."""
    raw = event.get("time")
    if raw is None:
        return None
    text = name_at(event, "time")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise EventError(
            f"event field 'time' {show(text)} is not an ISO 8601 time (e.g. 2026-11-28T01:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise EventError(f"event field 'time' {show(text)} has no time zone (e.g. Z)")
    return parsed.timestamp()


def parse_eventbridge(event: Any, allowed_calls: tuple[str, ...]) -> EventBridgeEvent:
    """An EventBridge event of the three kinds the control plane subscribes to."""
    kind = value_at(event, "detail-type", str)
    event_id = name_at(event, "id")
    if kind == SCHEDULED:
        if event.get("source") != contract.SCHEDULE_SOURCE:
            raise EventError("a Scheduled Event must come from source 'aws.events'")
        return ScheduledEvent(event_id)
    if kind == ENDPOINT_STATE_CHANGE:
        if event.get("source") != contract.SAGEMAKER_SOURCE:
            raise EventError(f"{kind!r} must come from source 'aws.sagemaker'")
        return EndpointStateEvent(
            name_at(event, "detail.EndpointName"),
            name_at(event, "detail.EndpointStatus"),
            event_id,
            _event_time(event),
        )
    if kind == API_CALL:
        name = value_at(event, "detail.eventName", str)
        if name not in allowed_calls:
            raise EventError(f"CloudTrail eventName {show(name)} is not one of {allowed_calls}")
        params = event["detail"].get("requestParameters")
        if not isinstance(params, Mapping):
            raise EventError("event field 'detail.requestParameters' is missing")
        component = params.get("inferenceComponentName")
        endpoint = params.get("endpointName")
        if component is None and endpoint is None:
            raise EventError(
                "CloudTrail requestParameters name neither an inference component nor an endpoint"
            )
        for label, value in (("inferenceComponentName", component), ("endpointName", endpoint)):
            if value is not None and (
                not isinstance(value, str) or not 0 < len(value) <= NAME_MAX_CHARS
            ):
                raise EventError(
                    f"requestParameters.{label} must be a name of 1 to {NAME_MAX_CHARS} chars, "
                    f"got {show(value)}"
                )
        error = event["detail"].get("errorCode")
        if error is not None and (not isinstance(error, str) or len(error) > NAME_MAX_CHARS):
            raise EventError(
                f"detail.errorCode must be a string of at most {NAME_MAX_CHARS} chars, "
                f"got {show(error)}"
            )
        return ApiCallEvent(name, endpoint, component, event_id, error, _event_time(event))
    allowed = (ENDPOINT_STATE_CHANGE, API_CALL, SCHEDULED)
    raise EventError(f"detail-type {show(kind)} is not one of {allowed}")
