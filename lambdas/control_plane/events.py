"""The events the control plane receives, parsed into typed objects before anything acts.

Every parser raises ``EventError`` naming the field at fault and what is allowed; nothing has
been read or written by then, so a malformed event changes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from . import contract
from .decision import Trigger


class EventError(ValueError):
    """An event the handler refuses: malformed, of an unknown kind, or not this endpoint's."""


class UnknownComponent(EventError):
    """The event names an inference component (or alarm) this endpoint does not have."""


class ForeignEndpoint(EventError):
    """The event is about another endpoint."""


def _field(obj: Any, path: str, kind: type | tuple[type, ...]) -> Any:
    """``obj[a][b]...`` for ``path`` "a.b", checked against ``kind``."""
    here = obj
    for part in path.split("."):
        if not isinstance(here, Mapping) or part not in here:
            raise EventError(f"event field {path!r} is missing")
        here = here[part]
    if not isinstance(here, kind) or (isinstance(here, bool) and bool not in _kinds(kind)):
        names = "/".join(k.__name__ for k in _kinds(kind))
        raise EventError(f"event field {path!r} must be {names}, got {type(here).__name__}")
    return here


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _name(obj: Any, path: str) -> str:
    value: str = _field(obj, path, str)
    if not value or len(value) > 256:
        raise EventError(f"event field {path!r} must be a non-empty name of at most 256 chars")
    return value


# --- CloudWatch alarm → Lambda ---------------------------------------------------------------
ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")


@dataclass(frozen=True)
class AlarmEvent:
    alarm_name: str
    component: str
    trigger: Trigger
    state: str
    previous_state: str | None
    timestamp: str
    datapoints: tuple[float, ...]  # the alarm's recent datapoints, oldest first
    period_s: int | None
    stat: str | None

    @property
    def in_alarm(self) -> bool:
        return self.state == "ALARM"

    @property
    def event_id(self) -> str:
        # A state transition happens once: its alarm, new state and timestamp identify it.
        return f"alarm|{self.alarm_name}|{self.state}|{self.timestamp}"


def is_alarm_event(event: Any) -> bool:
    return (
        isinstance(event, Mapping)
        and event.get("source") == "aws.cloudwatch"
        and "alarmData" in event
    )


def parse_alarm_event(event: Any) -> AlarmEvent:
    """The documented CloudWatch alarm → Lambda event shape."""
    alarm_name = _name(event, "alarmData.alarmName")
    state = _field(event, "alarmData.state.value", str)
    if state not in ALARM_STATES:
        raise EventError(f"alarmData.state.value {state!r} is not one of {ALARM_STATES}")
    timestamp = _name(event, "alarmData.state.timestamp")
    previous = event["alarmData"].get("previousState")
    previous_state = previous.get("value") if isinstance(previous, Mapping) else None
    try:
        component, trigger = contract.parse_alarm_name(alarm_name)
    except ValueError as exc:
        raise UnknownComponent(str(exc)) from None
    datapoints = _reason_datapoints(event["alarmData"]["state"].get("reasonData"))
    period_s, stat = _metric_stat(event["alarmData"].get("configuration"))
    return AlarmEvent(
        alarm_name,
        component,
        trigger,
        state,
        previous_state if isinstance(previous_state, str) else None,
        timestamp,
        datapoints,
        period_s,
        stat,
    )


def _reason_datapoints(reason_data: Any) -> tuple[float, ...]:
    """``recentDatapoints`` from the alarm's ``reasonData`` JSON; empty when unreadable.

    An alarm in ALARM whose numbers cannot be read must still scale out (the decision takes
    the smallest step), so an unreadable reason is not an error.
    """
    if not isinstance(reason_data, str):
        return ()
    try:
        decoded = json.loads(reason_data)
    except json.JSONDecodeError:
        return ()
    points = decoded.get("recentDatapoints") if isinstance(decoded, dict) else None
    if not isinstance(points, list):
        return ()
    return tuple(
        float(p)
        for p in points
        if isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p)
    )


def _metric_stat(configuration: Any) -> tuple[int | None, str | None]:
    if not isinstance(configuration, Mapping):
        return None, None
    metrics = configuration.get("metrics")
    if not isinstance(metrics, list) or not metrics or not isinstance(metrics[0], Mapping):
        return None, None
    stat = metrics[0].get("metricStat")
    if not isinstance(stat, Mapping):
        return None, None
    period = stat.get("period")
    name = stat.get("stat")
    return (
        period if isinstance(period, int) and period > 0 else None,
        name if isinstance(name, str) else None,
    )


# --- Re-evaluation messages (the scaler's own SQS queue) -------------------------------------
@dataclass(frozen=True)
class Reevaluation:
    """Look again at ``component`` while its alarm may still be in ALARM."""

    endpoint: str
    component: str
    trigger: Trigger
    alarm_name: str
    attempt: int  # consecutive deferrals (busy, throttled): drives the backoff
    period_s: int
    stat: str
    # The alarm transition that started this chain; a newer transition supersedes it.
    chain_id: str = ""

    def to_body(self) -> str:
        body = asdict(self)
        body["trigger"] = self.trigger.value
        body["kind"] = "reevaluate"
        return json.dumps(body, sort_keys=True)


def parse_reevaluation(body: Any) -> Reevaluation:
    try:
        decoded = json.loads(body) if isinstance(body, str) else None
    except json.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, dict) or decoded.get("kind") != "reevaluate":
        raise EventError(
            "SQS message body must be JSON with kind 'reevaluate' (endpoint, "
            "component, trigger, alarm_name, attempt, period_s, stat) or "
            "'reconcile' (endpoint, component, copies, attempt)"
        )
    trigger_raw = _field(decoded, "trigger", str)
    try:
        trigger = Trigger(trigger_raw)
    except ValueError:
        allowed = [t.value for t in Trigger]
        raise EventError(f"re-evaluation trigger {trigger_raw!r} not in {allowed}") from None
    attempt = _field(decoded, "attempt", int)
    period_s = _field(decoded, "period_s", int)
    if attempt < 0 or period_s <= 0:
        raise EventError("re-evaluation attempt must be >= 0 and period_s > 0")
    chain_id = decoded.get("chain_id", "")
    if not isinstance(chain_id, str):
        raise EventError("re-evaluation chain_id must be a string")
    return Reevaluation(
        _name(decoded, "endpoint"),
        _name(decoded, "component"),
        trigger,
        _name(decoded, "alarm_name"),
        attempt,
        period_s,
        _name(decoded, "stat"),
        chain_id,
    )


@dataclass(frozen=True)
class ReconcileRequest:
    """Restore ``component`` to ``copies`` once it is no longer busy (after a redeploy)."""

    endpoint: str
    component: str
    copies: int
    attempt: int

    def to_body(self) -> str:
        return json.dumps({**asdict(self), "kind": "reconcile"}, sort_keys=True)


QueueMessage = Reevaluation | ReconcileRequest


def parse_queue_message(body: Any) -> QueueMessage:
    """A message of the scaler's queue: a re-evaluation or a deferred reconcile."""
    try:
        decoded = json.loads(body) if isinstance(body, str) else None
    except json.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("kind") == "reconcile":
        copies = _field(decoded, "copies", int)
        attempt = _field(decoded, "attempt", int)
        if copies < 0 or attempt < 0:
            raise EventError("reconcile copies and attempt must be >= 0")
        return ReconcileRequest(
            _name(decoded, "endpoint"), _name(decoded, "component"), copies, attempt
        )
    return parse_reevaluation(body)


def is_sqs_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, Mapping) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records)
    )


# --- CloudFormation custom resources (CDK Provider framework onEvent) ------------------------
REQUEST_TYPES = ("Create", "Update", "Delete")


@dataclass(frozen=True)
class CustomResourceEvent:
    request_type: str
    endpoint: str
    components: tuple[str, ...]
    physical_id: str | None
    properties: Mapping[str, Any]


def is_custom_resource_event(event: Any) -> bool:
    return isinstance(event, Mapping) and "RequestType" in event


def parse_custom_resource(event: Any) -> CustomResourceEvent:
    request_type = _field(event, "RequestType", str)
    if request_type not in REQUEST_TYPES:
        raise EventError(f"RequestType {request_type!r} is not one of {REQUEST_TYPES}")
    properties = _field(event, "ResourceProperties", Mapping)
    endpoint = _name(properties, "EndpointName")
    raw = properties.get("Components", [])
    if isinstance(raw, Mapping):
        components = tuple(str(k) for k in raw)
    elif isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        components = tuple(raw)
    else:
        raise EventError(
            "ResourceProperties.Components must be a list of component names "
            "or an object keyed by them"
        )
    physical = event.get("PhysicalResourceId")
    return CustomResourceEvent(
        request_type,
        endpoint,
        components,
        physical if isinstance(physical, str) else None,
        properties,
    )


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


@dataclass(frozen=True)
class ApiCallEvent:
    event_name: str
    endpoint: str | None
    component: str | None
    event_id: str
    error_code: str | None


@dataclass(frozen=True)
class ScheduledEvent:
    event_id: str


EventBridgeEvent = EndpointStateEvent | ApiCallEvent | ScheduledEvent


def parse_eventbridge(event: Any, allowed_calls: tuple[str, ...]) -> EventBridgeEvent:
    """An EventBridge event of the three kinds the control plane subscribes to."""
    kind = _field(event, "detail-type", str)
    event_id = _name(event, "id")
    if kind == SCHEDULED:
        if event.get("source") != contract.SCHEDULE_SOURCE:
            raise EventError("a Scheduled Event must come from source 'aws.events'")
        return ScheduledEvent(event_id)
    if kind == ENDPOINT_STATE_CHANGE:
        if event.get("source") != contract.SAGEMAKER_SOURCE:
            raise EventError(f"{kind!r} must come from source 'aws.sagemaker'")
        return EndpointStateEvent(
            _name(event, "detail.EndpointName"), _name(event, "detail.EndpointStatus"), event_id
        )
    if kind == API_CALL:
        name = _field(event, "detail.eventName", str)
        if name not in allowed_calls:
            raise EventError(f"CloudTrail eventName {name!r} is not one of {allowed_calls}")
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
            if value is not None and (not isinstance(value, str) or not value):
                raise EventError(f"requestParameters.{label} must be a non-empty string")
        error = event["detail"].get("errorCode")
        return ApiCallEvent(
            name, endpoint, component, event_id, error if isinstance(error, str) else None
        )
    allowed = (ENDPOINT_STATE_CHANGE, API_CALL, SCHEDULED)
    raise EventError(f"detail-type {kind!r} is not one of {allowed}")
