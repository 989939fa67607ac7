"""The events the control plane receives, parsed into typed objects before anything acts.

Every parser raises ``EventError`` naming the field at fault and what is allowed; nothing has
been read or written by then, so a malformed event changes nothing. Input is bounded before it
is decoded: JSON text (an alarm's ``reasonData``, a queue message's body) is refused when it is
too long, nests too deep, or holds an integer of more than ``JSON_MAX_INT_DIGITS`` digits, a
non-finite number or a duplicate key, so no input reaches Python's own limits (the int-digits
``ValueError``, ``RecursionError``). The alarm path and the queue path check ``period`` and
``stat`` with the same rules (``metric_period``, ``metric_stat``): a follow-up the scaler builds
from an alarm it accepted always parses.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from . import contract
from .decision import Trigger


class EventError(ValueError):
    """An event the handler refuses: malformed, of an unknown kind, or not this endpoint's."""


class UnknownComponent(EventError):
    """The event names an inference component (or alarm) this endpoint does not have."""


class ForeignEndpoint(EventError):
    """The event is about another endpoint."""


# --- bounds -----------------------------------------------------------------------------------
NAME_MAX_CHARS = 256  # alarm names (CloudWatch: 255), resource names, event ids, timestamps
# CloudWatch's own limit on an alarm's StateReasonData (botocore's model: max 4000).
REASON_DATA_MAX_CHARS = 4000
# The scaler's own messages are about 300 characters; anything far longer is not one of them.
QUEUE_BODY_MAX_CHARS = 4096
JSON_MAX_DEPTH = 8  # a real reasonData nests 3 deep, a queue message 1
JSON_MAX_INT_DIGITS = 20  # past any epoch, count or period
PERIOD_MAX_S = 86400  # CloudWatch periods are 1, 5, 10, 30 s or multiples of 60 s; a day at most
STANDARD_STATS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(?:100|\d{1,2}(?:\.\d{1,2})?)")
# A deferral counter (one more per deferral, every 5 s or more): far past any real chain, and
# bounded because the backoff computes 2 ** attempt.
MAX_ATTEMPT = 1_000_000
MAX_COPIES = 10_000
MAX_COMPONENTS = 100
CHAIN_ID_MAX_CHARS = 1024  # "alarm|<name>|<state>|<timestamp>"


def show(value: Any) -> str:
    """``value`` for an error message, short whatever it is (never the whole of a huge input;
    an integer past Python's 4,300-digit str limit must not raise while being described)."""
    if value is None or isinstance(value, bool | float):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if abs(value) < 10**18 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, str):
        return repr(value[:40]) + (f"... ({len(value)} chars)" if len(value) > 40 else "")
    return f"a {type(value).__name__}"


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > JSON_MAX_INT_DIGITS:
        raise EventError(
            f"a number of {len(digits)} digits; allowed: at most {JSON_MAX_INT_DIGITS} digits"
        )
    return int(digits)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise EventError(f"number {show(text)} is out of range; allowed: finite numbers")
    return value


def _json_constant(name: str) -> Any:
    raise EventError(f"{name} is not allowed; allowed: finite numbers")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise EventError(f"duplicate key {show(key)}; allowed: each key once")
        out[key] = value
    return out


def _nesting(text: str) -> int:
    """The deepest ``[``/``{`` nesting of JSON ``text``, counted without decoding it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def bounded_json(text: Any, what: str, max_chars: int) -> Any:
    """``text`` decoded as JSON within the bounds above; ``EventError`` naming ``what``."""
    if not isinstance(text, str):
        raise EventError(f"{what} must be a JSON string, got {show(text)}")
    if len(text) > max_chars:
        raise EventError(f"{what} is {len(text)} characters; allowed: at most {max_chars}")
    depth = _nesting(text)
    if depth > JSON_MAX_DEPTH:
        raise EventError(f"{what} nests {depth} levels deep; allowed: at most {JSON_MAX_DEPTH}")
    try:
        return json.loads(
            text,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
            object_pairs_hook=_json_object,
        )
    except EventError as exc:
        raise EventError(f"{what}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise EventError(f"{what} is not valid JSON: {str(exc)[:120]}") from None


def metric_period(value: Any, where: str) -> int:
    """The one rule for a metric period, on the alarm path and the queue path alike."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PERIOD_MAX_S:
        raise EventError(
            f"{where} must be a whole number of seconds from 1 to {PERIOD_MAX_S} "
            f"(not a boolean), got {show(value)}"
        )
    return value


def metric_stat(value: Any, where: str) -> str:
    """The one rule for a statistic: CloudWatch's five, or a percentile p0 to p100."""
    if isinstance(value, str) and (value in STANDARD_STATS or _PERCENTILE.fullmatch(value)):
        return value
    raise EventError(
        f"{where} must be one of {', '.join(STANDARD_STATS)} or a percentile p0 to p100 "
        f"(e.g. p99, p99.9), got {show(value)}"
    )


def _count(obj: Any, path: str, most: int) -> int:
    value: int = _field(obj, path, int)
    if not 0 <= value <= most:
        raise EventError(f"event field {path!r} must be from 0 to {most}, got {show(value)}")
    return value


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
    if not value or len(value) > NAME_MAX_CHARS:
        raise EventError(
            f"event field {path!r} must be a non-empty name of at most {NAME_MAX_CHARS} "
            f"chars, got {show(value)}"
        )
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
        raise EventError(f"alarmData.state.value {show(state)} is not one of {ALARM_STATES}")
    timestamp = _name(event, "alarmData.state.timestamp")
    previous = event["alarmData"].get("previousState")
    previous_state = None
    if previous is not None:
        previous_state = _field(event, "alarmData.previousState.value", str)
        if previous_state not in ALARM_STATES:
            raise EventError(
                f"alarmData.previousState.value {show(previous_state)} is not one of {ALARM_STATES}"
            )
    try:
        component, trigger = contract.parse_alarm_name(alarm_name)
    except ValueError as exc:
        raise UnknownComponent(str(exc)) from None
    datapoints = _reason_datapoints(event["alarmData"]["state"].get("reasonData"))
    period_s, stat = _alarm_metric_stat(event["alarmData"].get("configuration"))
    return AlarmEvent(
        alarm_name,
        component,
        trigger,
        state,
        previous_state,
        timestamp,
        datapoints,
        period_s,
        stat,
    )


def _reason_datapoints(reason_data: Any) -> tuple[float, ...]:
    """``recentDatapoints`` from the alarm's ``reasonData`` JSON; empty when it has none.

    An alarm in ALARM without numbers must still scale out (the decision takes the smallest
    step), so a missing reason or list is not an error; one that is there but is not what
    CloudWatch writes (not bounded JSON, not a list of finite numbers) is.
    """
    if reason_data is None:
        return ()
    what = "alarmData.state.reasonData"
    decoded = bounded_json(reason_data, what, REASON_DATA_MAX_CHARS)
    if not isinstance(decoded, dict):
        raise EventError(f"{what} must be a JSON object, got {show(decoded)}")
    points = decoded.get("recentDatapoints")
    if points is None:
        return ()
    if not isinstance(points, list) or not all(
        isinstance(p, int | float) and not isinstance(p, bool) for p in points
    ):
        raise EventError(f"{what}.recentDatapoints must be a list of numbers")
    return tuple(float(p) for p in points)


def _alarm_metric_stat(configuration: Any) -> tuple[int | None, str | None]:
    """The first metric's ``period`` and ``stat``, each ``None`` when the event has none."""
    if configuration is None:
        return None, None
    where = "alarmData.configuration"
    if not isinstance(configuration, Mapping):
        raise EventError(f"{where} must be an object, got {show(configuration)}")
    metrics = configuration.get("metrics")
    if metrics is None or metrics == []:
        return None, None
    if not isinstance(metrics, list) or not isinstance(metrics[0], Mapping):
        raise EventError(f"{where}.metrics must be a list of objects")
    stat = metrics[0].get("metricStat")
    if stat is None:
        return None, None  # a metric-math alarm: no single period or statistic
    where = f"{where}.metrics[0].metricStat"
    if not isinstance(stat, Mapping):
        raise EventError(f"{where} must be an object, got {show(stat)}")
    period = stat.get("period")
    name = stat.get("stat")
    return (
        None if period is None else metric_period(period, f"{where}.period"),
        None if name is None else metric_stat(name, f"{where}.stat"),
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
    """A re-evaluation message body (see ``parse_queue_message``)."""
    message = parse_queue_message(body)
    if not isinstance(message, Reevaluation):
        raise EventError("SQS message body is a reconcile, not a re-evaluation")
    return message


def _reevaluation(decoded: Mapping[str, Any]) -> Reevaluation:
    _only_known(decoded, Reevaluation, "re-evaluation")
    trigger_raw = _field(decoded, "trigger", str)
    try:
        trigger = Trigger(trigger_raw)
    except ValueError:
        allowed = [t.value for t in Trigger]
        raise EventError(f"re-evaluation trigger {show(trigger_raw)} not in {allowed}") from None
    component = _name(decoded, "component")
    alarm_name = _name(decoded, "alarm_name")
    try:
        alarm_component, alarm_trigger = contract.parse_alarm_name(alarm_name)
    except ValueError as exc:
        raise EventError(f"re-evaluation alarm_name: {exc}") from None
    if (alarm_component, alarm_trigger) != (component, trigger):
        raise EventError(
            f"re-evaluation alarm_name {show(alarm_name)} is not component {show(component)}'s "
            f"{trigger.value} alarm; allowed: {show(contract.alarm_name(component, trigger))}"
        )
    chain_id = decoded.get("chain_id", "")
    if not isinstance(chain_id, str) or len(chain_id) > CHAIN_ID_MAX_CHARS:
        raise EventError(
            f"re-evaluation chain_id must be a string of at most {CHAIN_ID_MAX_CHARS} chars"
        )
    return Reevaluation(
        _name(decoded, "endpoint"),
        component,
        trigger,
        alarm_name,
        _count(decoded, "attempt", MAX_ATTEMPT),
        metric_period(decoded.get("period_s"), "re-evaluation period_s"),
        metric_stat(decoded.get("stat"), "re-evaluation stat"),
        chain_id,
    )


def _only_known(decoded: Mapping[str, Any], kind: type, label: str) -> None:
    allowed = {f.name for f in fields(kind)} | {"kind"}
    unknown = sorted(show(k) for k in decoded if k not in allowed)
    if unknown:
        raise EventError(
            f"{label} message has unknown fields {', '.join(unknown[:5])}; "
            f"allowed: {', '.join(sorted(allowed))}"
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
    decoded = bounded_json(body, "SQS message body", QUEUE_BODY_MAX_CHARS)
    kind = decoded.get("kind") if isinstance(decoded, dict) else None
    if kind == "reconcile":
        _only_known(decoded, ReconcileRequest, "reconcile")
        return ReconcileRequest(
            _name(decoded, "endpoint"),
            _name(decoded, "component"),
            _count(decoded, "copies", MAX_COPIES),
            _count(decoded, "attempt", MAX_ATTEMPT),
        )
    if kind == "reevaluate":
        return _reevaluation(decoded)
    raise EventError(
        "SQS message body must be JSON with kind 'reevaluate' (endpoint, "
        "component, trigger, alarm_name, attempt, period_s, stat, chain_id) or "
        "'reconcile' (endpoint, component, copies, attempt)"
    )


def is_sqs_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, Mapping) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(
            isinstance(r, Mapping)
            and r.get("eventSource") == "aws:sqs"
            and isinstance(r.get("messageId"), str)
            and 0 < len(r["messageId"]) <= NAME_MAX_CHARS
            for r in records
        )
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


PHYSICAL_ID_MAX_CHARS = 1024  # CloudFormation's limit on a physical resource id


def parse_custom_resource(event: Any) -> CustomResourceEvent:
    request_type = _field(event, "RequestType", str)
    if request_type not in REQUEST_TYPES:
        raise EventError(f"RequestType {show(request_type)} is not one of {REQUEST_TYPES}")
    properties = _field(event, "ResourceProperties", Mapping)
    endpoint = _name(properties, "EndpointName")
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
    text = _name(event, "time")
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
            _name(event, "detail.EndpointName"),
            _name(event, "detail.EndpointStatus"),
            event_id,
            _event_time(event),
        )
    if kind == API_CALL:
        name = _field(event, "detail.eventName", str)
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
