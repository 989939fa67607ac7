"""An endpoint deleted outside CloudFormation: no row outlives cleanup, and a new endpoint of the
same name starts from nothing (issue 10, item 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from lambdas.control_plane import aws, cache_tracker, claims, cleanup, scaler, settings, state
from lambdas.control_plane.decision import Trigger
from tests.helpers import (
    CONTEXT,
    IMAGE,
    READY_S,
    REGION,
    World,
    alarm_event,
    custom_resource,
    eventbridge,
)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tick(event_id: str) -> dict[str, Any]:
    return eventbridge("Scheduled Event", {}, source="aws.events", event_id=event_id)


def deleting(world: World, endpoint: str = "ep-a") -> dict[str, Any]:
    event = eventbridge(
        "SageMaker Endpoint State Change",
        {"EndpointName": endpoint, "EndpointStatus": "DELETING"},
        event_id=f"deleting-{world.clock()}",
    )
    event["time"] = _iso(world.clock())
    return event


def _moto_endpoint(name: str) -> Any:
    return sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].endpoints[name]


def survivors(world: World, endpoint: str = "ep-a") -> list[str]:
    """Every row of ``endpoint`` but the tombstone."""
    return [k for k in world.row_keys(endpoint) if k != state.TOMBSTONE_KEY]


def _state_before_deletion(world: World) -> None:
    """ep-a scaled out by an alarm still in ALARM (a re-evaluation queued), tracker rows."""
    world.set_copies("chat-a", 2)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    cache_tracker.handler(tick("before"), CONTEXT)
    assert len(survivors(world)) >= 6


def test_no_row_outlives_an_endpoint_deleted_outside_cloudformation(world: World) -> None:
    _state_before_deletion(world)
    in_flight = world.reevaluations()[-1]  # received by the scaler before the purge
    copies = world.copies("chat-a")
    # The operator deletes the endpoint from the console: it is Deleting for a while.
    _moto_endpoint("ep-a").endpoint_status = "Deleting"
    assert cleanup.handler(deleting(world), CONTEXT)["action"] == "purged"
    assert survivors(world) == []
    # The 1-minute poll runs while SageMaker still describes the endpoint and its components.
    polled = cache_tracker.handler(tick("late-poll"), CONTEXT)
    # The re-evaluation that was already in flight is processed after the purge.
    world.clock.advance(60)
    done = scaler.handler(
        {
            "Records": [
                {
                    "messageId": "in-flight",
                    "eventSource": "aws:sqs",
                    "body": in_flight.body,
                }
            ]
        },
        CONTEXT,
    )
    # Before the fix: ENDPOINT, COMPONENT# x2, IMAGE#, MODEL# x2, DECISION#, EVENT# (eight).
    assert survivors(world) == []
    assert polled["components"] == []
    assert done["batchItemFailures"] == []
    assert world.copies("chat-a") == copies  # nothing scaled for a deleted endpoint
    tombstone = world.row("ep-a", state.TOMBSTONE_KEY)
    assert tombstone is not None and "expires_at" in tombstone  # it goes by itself too
    # Once SageMaker has finished deleting, the poll still writes nothing.
    world.sagemaker.delete_endpoint(EndpointName="ep-a")
    cache_tracker.handler(tick("gone"), CONTEXT)
    assert survivors(world) == []


def _cleanup_during_first(
    monkeypatch: pytest.MonkeyPatch, name: str, event: Callable[[], dict[str, Any]]
) -> None:
    """Run cleanup in the middle of the first ``aws.<name>`` call: a writer that read before
    the purge and writes after it."""
    original = getattr(aws, name)
    ran: list[bool] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not ran:
            ran.append(True)
            cleanup.handler(event(), CONTEXT)
        return result

    monkeypatch.setattr(aws, name, racing)


def test_a_tracker_poll_racing_cleanup_writes_nothing_after_the_purge(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_tracker.handler(tick("before"), CONTEXT)
    # The poll has seen the endpoint live; cleanup runs before it writes its observations.
    _cleanup_during_first(monkeypatch, "describe_component", lambda: deleting(world))
    out = cache_tracker.handler(tick("racing"), CONTEXT)
    assert out == {"action": "ignored", "reason": "EndpointDeleted"}
    assert survivors(world) == []


def test_an_evaluation_racing_cleanup_writes_nothing_after_the_purge(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_copies("chat-a", 2)
    # The scaler has claimed the alarm event and is describing the component when the
    # endpoint's cleanup runs; its intent, decision and claim must not come back.
    _cleanup_during_first(monkeypatch, "describe_component", lambda: deleting(world))
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert survivors(world) == []


def test_every_write_is_refused_once_the_tombstone_exists(world: World) -> None:
    store = claims.open_store(settings.settings())
    store.mark_deleted(world.clock())
    with pytest.raises(state.EndpointGone):
        store.observe("ENDPOINT", {"status": "InService"})
    with pytest.raises(state.EndpointGone):
        store.put_history("DECISION", world.clock(), "chat-a", {"action": "held"})
    with pytest.raises(state.EndpointGone):
        store.commit_component("chat-a", 0, {"scaler_copies": 3})
    with pytest.raises(state.EndpointGone):
        store.start_chain("chat-a", "scale_out", "c-1")
    assert store.claim_event("e-1", world.clock(), 60) is False
    assert survivors(world) == []
    # Another endpoint's partition is not affected.
    use_b = state.StateStore(world.dynamodb, store._table, "ep-b", 30)
    use_b.observe("ENDPOINT", {"status": "InService"})
    assert world.row_keys("ep-b") == ["ENDPOINT"]


def test_a_tombstone_keeps_the_later_deletion_time(world: World) -> None:
    store = claims.open_store(settings.settings())
    store.mark_deleted(1000.0)
    store.mark_deleted(2000.0)
    store.mark_deleted(1500.0)  # an old deletion event retried late
    assert store.deleted_at() == 2000.0
    assert store.clear_tombstone(1000.0) is False  # not the tombstone read: it stays
    assert store.clear_tombstone(2000.0) is True
    assert store.deleted_at() is None


def test_the_old_endpoint_still_in_service_after_cleanup_gets_no_rows(world: World) -> None:
    # cdk destroy: the Cleanup custom resource's Delete may run while SageMaker still serves.
    cache_tracker.handler(tick("before"), CONTEXT)
    cleanup.handler(custom_resource("Delete", "ep-a", [], "Custom::Cleanup"), CONTEXT)
    assert survivors(world) == []
    out = cache_tracker.handler(tick("after"), CONTEXT)
    assert out["components"] == []
    assert survivors(world) == []


def _recreate_endpoint(world: World, created_at: float) -> None:
    """A new ep-a with the same components, created at ``created_at`` (no copy serving yet)."""
    world.sagemaker.delete_endpoint(EndpointName="ep-a")
    world.sagemaker.create_endpoint(EndpointName="ep-a", EndpointConfigName="ep-a-config")
    _moto_endpoint("ep-a").creation_time = datetime.fromtimestamp(created_at, UTC).replace(
        tzinfo=None
    )
    for name, copies in (("chat-a", 1), ("zero-a", 0)):
        world.sagemaker.create_inference_component(
            InferenceComponentName=name,
            EndpointName="ep-a",
            VariantName="AllTraffic",
            Specification={
                "ModelName": f"m-{name}",
                "ComputeResourceRequirements": {
                    "NumberOfAcceleratorDevicesRequired": 1,
                    "MinMemoryRequiredInMb": 16384,
                },
            },
            RuntimeConfig={"CopyCount": copies},
        )


def test_a_new_endpoint_of_the_same_name_starts_fresh(world: World) -> None:
    image = f"IMAGE#{IMAGE}"
    _state_before_deletion(world)
    assert world.cache_state("ep-a", image) == "cached"
    _moto_endpoint("ep-a").endpoint_status = "Deleting"
    cleanup.handler(deleting(world), CONTEXT)
    cache_tracker.handler(tick("late-poll"), CONTEXT)
    world.clock.advance(600)
    _recreate_endpoint(world, world.clock())
    # Its first copy is still coming up: SageMaker's image cache went with the old endpoint,
    # so no row may say the image is cached.
    assert world.cache_state("ep-a", image) is None
    out = cache_tracker.handler(tick("new-1"), CONTEXT)
    assert world.row("ep-a", state.TOMBSTONE_KEY) is None  # the new endpoint cleared it
    assert [c["cache_state"] for c in out["components"]] == ["warming", "cold"]
    assert world.cache_state("ep-a", image) == "warming"
    # And the scaler works for it again.
    world.clock.advance(READY_S["uncached"] + 1)
    cache_tracker.handler(tick("new-2"), CONTEXT)
    assert world.cache_state("ep-a", image) == "cached"
    out = scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0], timestamp="new-endpoint"), CONTEXT
    )
    assert out["action"] == "scaled"


def test_the_cleanup_resource_of_a_new_stack_clears_the_tombstone(world: World) -> None:
    cleanup.handler(custom_resource("Delete", "ep-a", [], "Custom::Cleanup"), CONTEXT)
    assert world.row_keys("ep-a") == [state.TOMBSTONE_KEY]
    cleanup.handler(custom_resource("Create", "ep-a", [], "Custom::Cleanup"), CONTEXT)
    assert world.row_keys("ep-a") == []
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert survivors(world)  # writes are allowed again


class _Conflicting:
    """A table whose transactions are cancelled by concurrent ones ``times`` times."""

    def __init__(self, times: int, reasons: tuple[str, str] = ("None", "TransactionConflict")):
        self.times = times
        self.reasons = reasons
        self.calls = 0

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls += 1
        if self.calls <= self.times:
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": [{"Code": code} for code in self.reasons],
                },
                "TransactWriteItems",
            )
        return {}


def test_a_write_cancelled_by_a_concurrent_transaction_is_retried() -> None:
    slept: list[float] = []
    db = _Conflicting(times=2)
    store = state.StateStore(db, "t", "ep-a", 30, sleep=slept.append)
    store.observe("ENDPOINT", {"status": "InService"})
    assert db.calls == 3
    assert slept == [state.PURGE_BACKOFF_BASE_S, 2 * state.PURGE_BACKOFF_BASE_S]
    # A conditional write that keeps losing is a Conflict (re-read and decide again); an
    # unconditional one is the table being unavailable.
    with pytest.raises(state.Conflict):
        state.StateStore(
            _Conflicting(times=9), "t", "ep-a", 30, sleep=slept.append
        ).commit_component("chat-a", 1, {"scaler_copies": 2})
    with pytest.raises(state.StateUnavailable):
        state.StateStore(_Conflicting(times=9), "t", "ep-a", 30, sleep=slept.append).observe(
            "ENDPOINT", {"status": "InService"}
        )
    # A conflict on the tombstone's key (another writer checking it, or cleanup writing it) is
    # retried, not taken for the endpoint's end: the retry's check then decides.
    tombstone_busy = _Conflicting(times=1, reasons=("TransactionConflict", "None"))
    state.StateStore(tombstone_busy, "t", "ep-a", 30, sleep=slept.append).observe(
        "ENDPOINT", {"status": "InService"}
    )
    assert tombstone_busy.calls == 2
