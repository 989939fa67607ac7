"""Cache tracker and cleanup against moto, and the isolation between endpoints."""

from __future__ import annotations

import io
import json
import logging

import pytest

from lambdas.control_plane import cache_tracker, claims, cleanup, scaler, settings
from lambdas.control_plane.decision import Trigger
from lambdas.control_plane.events import EventError, ForeignEndpoint, UnknownComponent
from lambdas.control_plane.observability import logger
from tests.helpers import (
    CONTEXT,
    IMAGE,
    READY_S,
    World,
    alarm_event,
    custom_resource,
    emf_metrics,
    eventbridge,
    use_endpoint,
)


def tick(event_id: str = "tick-1") -> dict[str, object]:
    return eventbridge("Scheduled Event", {}, source="aws.events", event_id=event_id)


def trail(event_name: str, **params: str) -> dict[str, object]:
    return eventbridge(
        "AWS API Call via CloudTrail",
        {
            "eventSource": "sagemaker.amazonaws.com",
            "eventName": event_name,
            "requestParameters": params,
        },
        event_id=f"ct-{event_name}",
    )


def state_change(endpoint: str, status: str) -> dict[str, object]:
    return eventbridge(
        "SageMaker Endpoint State Change",
        {
            "EndpointName": endpoint,
            "EndpointArn": f"arn:aws:sagemaker:::endpoint/{endpoint}",
            "EndpointStatus": status,
            "Tags": {},
        },
        event_id=f"sc-{endpoint}-{status}",
    )


def test_the_tracker_times_a_scale_out_by_path_and_marks_the_image_cached(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the image has served on this endpoint (cached) and every instance is full
    cache_tracker.handler(tick("t0"), CONTEXT)
    image = [k for k in world.row_keys("ep-a", "IMAGE#")]
    assert len(image) == 1
    assert world.cache_state("ep-a", image[0]) == "cached"
    # When the scaler adds a copy, which needs a new instance with the image cached
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    cache_tracker.handler(tick("t1"), CONTEXT)
    assert world.row_keys("ep-a", "SCALEOUT#") == []  # not there yet
    world.clock.advance(READY_S["cached"])
    result = cache_tracker.handler(tick("t2"), CONTEXT)
    # Then the observed time and path are recorded, remembered and published
    finished = [c["scale_out"] for c in result["components"] if "scale_out" in c]
    assert finished == [{"seconds": READY_S["cached"], "path": "cached", "target_copies": 2}]
    assert len(world.row_keys("ep-a", "SCALEOUT#")) == 1
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and float(row["ready_s_cached"]["N"]) == READY_S["cached"]
    assert float(row["ready_at_cached"]["N"]) == world.clock()  # when it was observed
    assert "pending_target" not in row
    metrics = emf_metrics(capsys.readouterr().out)
    seconds = [m for m in metrics if m["name"] == "ScaleOutSeconds"]
    assert seconds and seconds[0]["dimensions"]["Path"] == "cached"
    assert {"DesiredCopies", "CurrentCopies", "Instances"} <= {m["name"] for m in metrics}


def test_cache_states_move_from_cold_to_warming_to_served(world: World) -> None:
    # zero-a has never run a copy; its model row starts cold (the image is shared and cached).
    cache_tracker.handler(tick("t0"), CONTEXT)
    assert world.cache_state("ep-a", "MODEL#m-zero-a") == "cold"
    scaler.handler(alarm_event("zero-a", Trigger.FROM_ZERO, "ALARM", [2.0]), CONTEXT)
    cache_tracker.handler(
        trail("UpdateInferenceComponentRuntimeConfig", inferenceComponentName="zero-a"), CONTEXT
    )
    assert world.cache_state("ep-a", "MODEL#m-zero-a") == "warming"
    world.clock.advance(READY_S["uncached"])
    cache_tracker.handler(tick("t1"), CONTEXT)
    assert world.cache_state("ep-a", "MODEL#m-zero-a") == "served"


def _attrs(world: World, sk: str) -> dict[str, str]:
    row = world.row("ep-a", sk)
    assert row is not None
    return {k: v["S"] for k, v in row.items() if "S" in v and k not in ("pk", "sk")}


def test_cache_rows_say_what_is_observed_and_what_is_inferred(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_tracker.handler(tick("t0"), CONTEXT)
    # A copy of chat-a served on this endpoint (observed). Its weights are cached only where
    # that copy runs: a new instance downloads them, so the model row never says "cached".
    assert _attrs(world, "MODEL#m-chat-a") == {
        "state": "served",
        "evidence": "observed",
        "scope": "running-instances",
    }
    # SageMaker reports no image-cache hit or miss: "cached" for new instances of this
    # endpoint is inferred from that served copy.
    image = "IMAGE#" + IMAGE
    assert _attrs(world, image) == {
        "state": "cached",
        "evidence": "inferred",
        "scope": "new-instances",
    }
    # The scaler reads the image row as before: its snapshot says the image is cached.
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    monkeypatch.setattr(handler, "stream", stream)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    decisions = [line for line in lines if line.get("message") == "decision"]
    assert decisions and decisions[0]["inputs"]["image_cached"] is True


def test_a_model_row_an_older_tracker_marked_cached_is_corrected(world: World) -> None:
    store = claims.open_store(settings.settings())
    store.observe("MODEL#m-chat-a", {"state": "cached", "cached_at": 1.0})
    store.observe("IMAGE#" + IMAGE, {"state": "cached", "cached_at": 1.0})
    cache_tracker.handler(tick("t0"), CONTEXT)
    assert _attrs(world, "MODEL#m-chat-a") == {
        "state": "served",
        "evidence": "observed",
        "scope": "running-instances",
    }
    assert _attrs(world, "IMAGE#" + IMAGE)["evidence"] == "inferred"


def test_the_tracker_refuses_another_endpoints_components(world: World) -> None:
    before = world.rows("ep-a")
    with pytest.raises(UnknownComponent):
        cache_tracker.handler(
            trail("UpdateInferenceComponentRuntimeConfig", inferenceComponentName="chat-b"), CONTEXT
        )
    with pytest.raises(ForeignEndpoint):
        cache_tracker.handler(state_change("ep-b", "IN_SERVICE"), CONTEXT)
    assert world.rows("ep-a") == before and world.rows("ep-b") == []


def test_cleanup_purges_only_its_endpoint_and_is_idempotent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both endpoints have state
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    cache_tracker.handler(tick("a"), CONTEXT)
    use_endpoint(monkeypatch, world, "ep-b")
    scaler.handler(alarm_event("chat-b", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    cache_tracker.handler(tick("b"), CONTEXT)
    rows_b = world.rows("ep-b")
    assert rows_b
    use_endpoint(monkeypatch, world, "ep-a")
    assert world.rows("ep-a")
    # A's functions cannot be turned against B
    with pytest.raises(ForeignEndpoint):
        cleanup.handler(state_change("ep-b", "DELETING"), CONTEXT)
    with pytest.raises(ForeignEndpoint):
        cleanup.handler(trail("DeleteEndpoint", endpointName="ep-b"), CONTEXT)
    assert world.rows("ep-b") == rows_b
    # A goes away: its rows and pending re-evaluations go, B's stay
    assert cleanup.handler(state_change("ep-a", "IN_SERVICE"), CONTEXT)["action"] == "ignored"
    out = cleanup.handler(state_change("ep-a", "DELETING"), CONTEXT)
    assert out["action"] == "purged" and out["rows_deleted"] > 0
    assert world.row_keys("ep-a") == ["DELETED"]  # the tombstone alone (TTL)
    assert world.rows("ep-b") == rows_b
    attrs = world.sqs.get_queue_attributes(QueueUrl=world.queues["ep-a"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "0"
    # Again, through CloudTrail and the custom resource: nothing left, no error
    assert (
        cleanup.handler(trail("DeleteEndpoint", endpointName="ep-a"), CONTEXT)["rows_deleted"] == 0
    )
    done = cleanup.handler(custom_resource("Delete", "ep-a", [], "Custom::Cleanup"), CONTEXT)
    assert done["Data"]["RowsDeleted"] == "0"
    assert world.rows("ep-b") == rows_b


def test_cleanup_custom_resource_create_changes_nothing(world: World) -> None:
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    before = world.rows("ep-a")
    out = cleanup.handler(custom_resource("Create", "ep-a", [], "Custom::Cleanup"), CONTEXT)
    assert out["PhysicalResourceId"] == "cleanup-ep-a"
    assert world.rows("ep-a") == before


def test_cleanup_refuses_schedules(world: World) -> None:
    with pytest.raises(EventError, match="deletion only"):
        cleanup.handler(tick(), CONTEXT)
