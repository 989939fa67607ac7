"""Fuzzed and broken events: a clear error, nothing changed, no other endpoint touched."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdas.control_plane import cache_tracker, cleanup, scaler
from lambdas.control_plane.decision import Trigger
from lambdas.control_plane.events import EventError
from tests.helpers import CONTEXT, World, alarm_event, custom_resource, eventbridge

HANDLERS: dict[str, Callable[[Any, Any], Any]] = {
    "scaler": scaler.handler,
    "tracker": cache_tracker.handler,
    "cleanup": cleanup.handler,
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)

# Fields each event kind cannot do without, as paths into the event.
VALID_EVENTS: list[tuple[str, dict[str, Any], list[tuple[str, ...]]]] = [
    (
        "scaler",
        alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]),
        [
            ("alarmData", "alarmName"),
            ("alarmData", "state", "value"),
            ("alarmData", "state", "timestamp"),
            ("alarmData", "state"),
        ],
    ),
    (
        "scaler",
        custom_resource("Update", "ep-a", ["chat-a"]),
        [("ResourceProperties", "EndpointName"), ("ResourceProperties",)],
    ),
    (
        "tracker",
        eventbridge(
            "SageMaker Endpoint State Change",
            {"EndpointName": "ep-a", "EndpointStatus": "IN_SERVICE"},
        ),
        [("detail", "EndpointName"), ("detail", "EndpointStatus"), ("detail-type",), ("id",)],
    ),
    (
        "tracker",
        eventbridge(
            "AWS API Call via CloudTrail",
            {
                "eventName": "UpdateInferenceComponentRuntimeConfig",
                "requestParameters": {"inferenceComponentName": "chat-a"},
            },
        ),
        [("detail", "eventName"), ("detail", "requestParameters"), ("id",)],
    ),
    (
        "cleanup",
        eventbridge(
            "SageMaker Endpoint State Change",
            {"EndpointName": "ep-a", "EndpointStatus": "DELETING"},
        ),
        [("detail", "EndpointName"), ("detail", "EndpointStatus"), ("detail-type",)],
    ),
    (
        "cleanup",
        custom_resource("Delete", "ep-a", [], "Custom::Cleanup"),
        [("ResourceProperties", "EndpointName"), ("RequestType",)],
    ),
]


def _break(
    event: dict[str, Any], path: tuple[str, ...], replacement: Any, drop: bool
) -> dict[str, Any]:
    broken = copy.deepcopy(event)
    here = broken
    for key in path[:-1]:
        here = here[key]
    if drop:
        del here[path[-1]]
    else:
        here[path[-1]] = replacement
    return broken


def _everything(world: World) -> str:
    return json.dumps(
        {
            "a": world.rows("ep-a"),
            "b": world.rows("ep-b"),
            "copies": [world.copies(c) for c in ("chat-a", "zero-a", "chat-b")],
            "sent": len(world.sent),
        },
        sort_keys=True,
        default=str,
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    case=st.sampled_from(VALID_EVENTS),
    which=st.integers(0, 10),
    drop=st.booleans(),
    replacement=st.none()
    | st.integers()
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
def test_a_broken_required_field_is_refused_and_changes_nothing(
    world: World,
    case: tuple[str, dict[str, Any], list[tuple[str, ...]]],
    which: int,
    drop: bool,
    replacement: Any,
) -> None:
    handler_name, event, paths = case
    path = paths[which % len(paths)]
    before = _everything(world)
    with pytest.raises(EventError) as raised:
        HANDLERS[handler_name](_break(event, path, replacement, drop), CONTEXT)
    assert str(raised.value)  # says what was wrong
    assert _everything(world) == before


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(handler_name=st.sampled_from(sorted(HANDLERS)), event=json_values)
def test_arbitrary_json_is_refused_and_changes_nothing(
    world: World, handler_name: str, event: Any
) -> None:
    before = _everything(world)
    with pytest.raises(EventError):
        HANDLERS[handler_name](event, CONTEXT)
    assert _everything(world) == before


def test_a_garbage_queue_message_is_a_batch_failure_not_a_crash(world: World) -> None:
    before = _everything(world)
    out = scaler.handler(
        {
            "Records": [
                {"messageId": "m1", "eventSource": "aws:sqs", "body": "not json"},
                {
                    "messageId": "m2",
                    "eventSource": "aws:sqs",
                    "body": json.dumps({"kind": "reevaluate"}),
                },
            ]
        },
        CONTEXT,
    )
    assert out["batchItemFailures"] == [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]
    assert _everything(world) == before
