"""Hostile input on every surface the handlers take, generated: an alarm event, a queue
message, EventBridge events (endpoint state change, CloudTrail call, scheduled poll) and the
custom resources. Each example must end in ``EventError`` or a clean ignore (a batch failure for
a queue record), never another exception; nothing may change in the table, in SageMaker or in
the queues for any endpoint; and each example is bounded in time (hypothesis' deadline) and in
the memory the handler allocates.

Every generated event carries at least one thing that makes it not this endpoint's to act on:
a look-alike name (``ep-a`` vs ``ep-a-b``, ``chat-a`` vs ``chat-a-b``), another endpoint's real
name, a forged source, a field of the wrong type, or an oversized, over-nested or over-long
value. Valid events act, and are tested elsewhere.
"""

from __future__ import annotations

import copy
import json
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lambdas.control_plane import aws, cache_tracker, cleanup, scaler
from lambdas.control_plane.decision import Trigger
from lambdas.control_plane.events import (
    EventError,
    ReconcileRequest,
    Reevaluation,
    parse_alarm_event,
    parse_queue_message,
)
from tests.helpers import (
    CONTEXT,
    TABLE,
    World,
    alarm_event,
    custom_resource,
    eventbridge,
    sqs_event,
)

OWN_ENDPOINT = "ep-a"
COMPONENTS = ("chat-a", "zero-a")
SUFFIXES = ("scale-out", "scale-in", "from-zero")
MAX_HANDLER_BYTES = 32 * 2**20  # what one rejected event may allocate, at most
FUZZ = settings(
    max_examples=50,
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _look_alikes(real: str) -> st.SearchStrategy[str]:
    """Names that are not ``real`` but could pass for it."""
    fixed = [
        f"{real}-b",
        f"{real}b",
        real[:-1],
        real.upper(),
        f"{real} ",
        f" {real}",
        f"{real}\n",
        f"{real}\x00",
        real.replace("-", "_"),
        f"{real}-{real}",
        "alpha",
        "alpha-b",
    ]
    return st.sampled_from(fixed) | st.text(max_size=70).filter(lambda s: s != real)


foreign_endpoint = st.just("ep-b") | _look_alikes(OWN_ENDPOINT)
foreign_component = st.just("chat-b") | st.one_of(*(_look_alikes(c) for c in COMPONENTS))
foreign_alarm = st.builds(
    lambda component, suffix: f"{component}-{suffix}", foreign_component, st.sampled_from(SUFFIXES)
) | st.builds(
    lambda component, suffix: f"{component}-{suffix}",
    st.sampled_from(COMPONENTS),
    st.sampled_from(["scale_out", "scale-outs", "scaleout", "", "scale-in ", "SCALE-OUT"]),
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
huge_texts = st.sampled_from(
    [
        "9" * 5000,
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        "x" * 1_000_000,
        '{"recentDatapoints": [' + "7" * 3990 + "]}",
        '{"recentDatapoints": [1e400]}',
        '{"recentDatapoints": [NaN, Infinity]}',
        '{"recentDatapoints": [1], "recentDatapoints": [2]}',
        "\ud800",
        "",
    ]
)


def _integer_of_5000_digits() -> int:
    return 10**4999  # built on demand: hypothesis cannot repr it in a strategy's description


hostile_values = (
    json_values
    | huge_texts
    | st.builds(_integer_of_5000_digits)
    | st.sampled_from([-(10**400), True, 2**64])
)


def _snapshot(world: World) -> str:
    """Everything the control plane could change, for every endpoint."""
    items: list[Any] = []
    kwargs: dict[str, Any] = {"TableName": TABLE}
    while True:
        page = world.dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    components = {
        c: world.sagemaker.describe_inference_component(InferenceComponentName=c)
        for c in ("chat-a", "zero-a", "chat-b")
    }
    for described in components.values():
        described.pop("ResponseMetadata", None)
    queues = {
        endpoint: world.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for endpoint, url in world.queues.items()
    }
    for attrs in queues.values():
        attrs.pop("LastModifiedTimestamp", None)
    return json.dumps(
        {
            "table": sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"])),
            "components": components,
            "endpoints": world.sagemaker.list_endpoints()["Endpoints"],
            "queues": queues,
            "sent": len(world.sent),
        },
        sort_keys=True,
        default=str,
    )


@pytest.fixture
def fuzz_world(world: World) -> World:
    # Build the handlers' clients once, so that an example's memory is its own.
    for service in ("dynamodb", "sagemaker", "sqs", "cloudwatch"):
        aws.client(service)
    return world


def _run(world: World, handler: Callable[[Any, Any], Any], event: Any) -> Any:
    """Call ``handler``: ``EventError`` or a result, nothing else; nothing changed; bounded
    memory. Returns the result (``None`` after an ``EventError``)."""
    before = _snapshot(world)
    result = _call(handler, event)
    assert _snapshot(world) == before
    return result


def _call(handler: Callable[[Any, Any], Any], event: Any) -> Any:
    tracemalloc.start()
    try:
        result = handler(event, CONTEXT)
    except EventError as exc:
        assert str(exc)  # says what was wrong
        result = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MAX_HANDLER_BYTES
    return result


def _set(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    here = out
    for key in path[:-1]:
        here = here[key]
    here[path[-1]] = value
    return out


# --- alarm events → scaler ---------------------------------------------------------------------
ALARM = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0])
ALARM_FIELDS = [
    ("alarmData", "state", "value"),
    ("alarmData", "state", "timestamp"),
    ("alarmData", "state", "reasonData"),
    ("alarmData", "previousState"),
    ("alarmData", "configuration"),
    ("alarmData", "configuration", "metrics"),
    ("alarmData", "configuration", "metrics", 0, "metricStat", "period"),
    ("alarmData", "configuration", "metrics", 0, "metricStat", "stat"),
]
hostile_alarm = st.one_of(
    st.builds(lambda name: _set(ALARM, ("alarmData", "alarmName"), name), foreign_alarm),
    st.builds(
        lambda reason: _set(ALARM, ("alarmData", "state", "reasonData"), reason),
        huge_texts | st.text(max_size=50),
    ),
    st.builds(
        lambda i, value: _set(ALARM, ALARM_FIELDS[i], value),  # type: ignore[arg-type]
        st.integers(0, len(ALARM_FIELDS) - 1),
        hostile_values.filter(lambda v: not isinstance(v, dict)),
    ),
    st.builds(lambda value: _set(ALARM, ("alarmData",), value), hostile_values),
)


def _acts(parse: Callable[[Any], Any], event: Any) -> bool:
    """Whether ``event`` happens to be a valid one for this endpoint's components (a mutation
    that wrote back a valid value): such an event acts, and is not what these tests are for."""
    try:
        parsed = parse(event)
    except EventError:
        return False
    return bool(
        parsed.component in COMPONENTS and getattr(parsed, "endpoint", OWN_ENDPOINT) == OWN_ENDPOINT
    )


@FUZZ
@given(event=hostile_alarm)
def test_hostile_alarm_events(fuzz_world: World, event: dict[str, Any]) -> None:
    assume(not _acts(parse_alarm_event, event))
    assert _run(fuzz_world, scaler.handler, event) is None


# --- queue messages → scaler --------------------------------------------------------------------
REEVALUATION = json.loads(
    Reevaluation(
        OWN_ENDPOINT, "chat-a", Trigger.SCALE_OUT, "chat-a-scale-out", 0, 10, "Average", "c"
    ).to_body()
)
RECONCILE = json.loads(ReconcileRequest(OWN_ENDPOINT, "chat-a", 2, 0).to_body())


def _body(message: dict[str, Any], key: str, value: Any) -> str:
    try:
        return json.dumps({**message, key: value})
    except (ValueError, TypeError):
        return json.dumps({**message, key: None})


hostile_body = st.one_of(
    st.builds(lambda v: _body(REEVALUATION, "endpoint", v), foreign_endpoint),
    st.builds(lambda v: _body(REEVALUATION, "component", v), foreign_component),
    st.builds(lambda v: _body(REEVALUATION, "alarm_name", v), foreign_alarm),
    st.builds(lambda v: _body(RECONCILE, "endpoint", v), foreign_endpoint),
    st.builds(lambda v: _body(RECONCILE, "component", v), foreign_component),
    st.builds(
        lambda key, v: _body(REEVALUATION, key, v),
        st.sampled_from(["trigger", "attempt", "period_s", "stat", "chain_id", "kind"]),
        hostile_values.filter(lambda v: not isinstance(v, str) or len(v) > 2000),
    ),
    st.builds(
        lambda key, v: _body(RECONCILE, key, v),
        st.sampled_from(["copies", "attempt"]),
        hostile_values.filter(lambda v: not isinstance(v, int) or isinstance(v, bool) or v < 0),
    ),
    huge_texts,
    st.text(max_size=200),
)


@FUZZ
@given(body=hostile_body)
def test_hostile_queue_messages(fuzz_world: World, body: str) -> None:
    assume(not _acts(parse_queue_message, body))
    result = _run(fuzz_world, scaler.handler, sqs_event(body, "m-fuzz"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m-fuzz"}]
    assert result["outcomes"] == []


@FUZZ
@given(record=st.dictionaries(st.text(max_size=12), hostile_values, max_size=5))
def test_hostile_queue_records(fuzz_world: World, record: dict[str, Any]) -> None:
    # Records that are not SQS records at all (no string messageId, another source).
    event = {"Records": [{**record, "eventSource": "aws:sqs", "messageId": 7}]}
    assert _run(fuzz_world, scaler.handler, event) is None


# --- EventBridge → cache tracker and cleanup ----------------------------------------------------
def _state_change(endpoint: Any, status: Any = "DELETING") -> dict[str, Any]:
    return eventbridge(
        "SageMaker Endpoint State Change",
        {"EndpointName": endpoint, "EndpointStatus": status},
        event_id="sc-fuzz",
    )


def _trail(name: Any, params: Any) -> dict[str, Any]:
    return eventbridge(
        "AWS API Call via CloudTrail",
        {"eventSource": "sagemaker.amazonaws.com", "eventName": name, "requestParameters": params},
        event_id="ct-fuzz",
    )


STATE_CHANGE = _state_change(OWN_ENDPOINT)


def _not_a_time(value: Any) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is None
    except (TypeError, ValueError):
        return value is not None


hostile_eventbridge = st.one_of(
    st.builds(
        _state_change,
        foreign_endpoint,
        st.sampled_from(["DELETING", "IN_SERVICE", "CREATING", "FAILED"]) | st.text(max_size=9),
    ),
    st.builds(
        lambda v: _state_change(OWN_ENDPOINT, v),
        hostile_values.filter(lambda v: not isinstance(v, str) or len(v) > 256),
    ),
    st.builds(
        lambda v: _set(STATE_CHANGE, ("source",), v),
        st.text(max_size=20).filter(lambda s: s != "aws.sagemaker"),
    ),
    st.builds(lambda v: _set(STATE_CHANGE, ("time",), v), hostile_values.filter(_not_a_time)),
    st.builds(
        lambda v: _set(STATE_CHANGE, ("id",), v),
        hostile_values.filter(lambda v: not isinstance(v, str) or not 0 < len(v) <= 256),
    ),
    st.builds(lambda v: _set(STATE_CHANGE, ("detail-type",), v), hostile_values),
    st.builds(
        _trail,
        st.sampled_from(
            ["UpdateInferenceComponentRuntimeConfig", "DeleteEndpoint", "DeleteInferenceComponent"]
        ),
        st.one_of(
            st.builds(lambda c: {"inferenceComponentName": c}, foreign_component),
            st.builds(lambda e: {"endpointName": e}, foreign_endpoint),
            st.builds(
                lambda v: {"inferenceComponentName": v},
                hostile_values.filter(lambda v: not isinstance(v, str) or len(v) > 256),
            ),
            hostile_values.filter(lambda v: not isinstance(v, dict)),
        ),
    ),
    st.builds(
        lambda name: _trail(name, {"inferenceComponentName": "chat-a"}),
        st.text(max_size=40).filter(lambda s: "Component" not in s and s != "DeleteEndpoint"),
    ),
    st.builds(
        lambda source: eventbridge("Scheduled Event", {}, source=source, event_id="tick"),
        st.text(max_size=20).filter(lambda s: s != "aws.events"),
    ),
)


@FUZZ
@given(event=hostile_eventbridge, which=st.sampled_from(["tracker", "cleanup"]))
def test_hostile_eventbridge_events(fuzz_world: World, event: dict[str, Any], which: str) -> None:
    handler = cache_tracker.handler if which == "tracker" else cleanup.handler
    result = _run(fuzz_world, handler, event)
    assert result is None or result.get("action") == "ignored"


@FUZZ
@given(event=hostile_values)
def test_arbitrary_values_are_not_events(fuzz_world: World, event: Any) -> None:
    before = _snapshot(fuzz_world)
    for handler in (scaler.handler, cache_tracker.handler, cleanup.handler):
        assert _call(handler, event) is None
    assert _snapshot(fuzz_world) == before


# --- custom resources → scaler (Reconcile) and cleanup (Cleanup) -------------------------------
RESOURCE = custom_resource("Update", OWN_ENDPOINT, ["chat-a"])
hostile_resource = st.one_of(
    st.builds(
        lambda request, endpoint: custom_resource(request, endpoint, ["chat-a"]),
        st.sampled_from(["Create", "Update", "Delete"]),
        foreign_endpoint,
    ),
    st.builds(
        lambda v: _set(RESOURCE, ("RequestType",), v),
        hostile_values.filter(lambda v: v not in ("Create", "Update", "Delete")),
    ),
    st.builds(
        lambda v: _set(RESOURCE, ("ResourceProperties", "Components"), v),
        hostile_values.filter(
            lambda v: (
                not isinstance(v, list | dict)
                or len(v) > 100
                or not all(isinstance(c, str) and 0 < len(c) <= 256 for c in v)
            )
        ),
    ),
    st.builds(
        lambda v: _set(RESOURCE, ("ResourceProperties", "Components"), v),
        st.lists(st.text(min_size=257, max_size=300), min_size=1, max_size=2)
        | st.just(["x"] * 101),
    ),
    st.builds(
        lambda v: _set(RESOURCE, ("PhysicalResourceId",), v),
        hostile_values.filter(
            lambda v: v is not None and (not isinstance(v, str) or not 0 < len(v) <= 1024)
        ),
    ),
    st.builds(
        lambda v: _set(RESOURCE, ("ResourceProperties",), v),
        hostile_values.filter(lambda v: not isinstance(v, dict) or "EndpointName" not in v),
    ),
)


@FUZZ
@given(event=hostile_resource, which=st.sampled_from(["scaler", "cleanup"]))
def test_hostile_custom_resources(fuzz_world: World, event: dict[str, Any], which: str) -> None:
    handler = scaler.handler if which == "scaler" else cleanup.handler
    assert _run(fuzz_world, handler, event) is None
