"""Failure paths of the scaler against moto: what stays recorded when a call fails midway."""

from __future__ import annotations

import pytest

from lambdas.control_plane import (
    aws,
    cache_tracker,
    claims,
    cleanup,
    contract,
    scaler,
    settings,
    state,
)
from lambdas.control_plane.decision import Trigger
from lambdas.control_plane.events import parse_alarm_event
from tests.helpers import CONTEXT, World, alarm_event, custom_resource, eventbridge, sqs_event


def test_an_unexpected_update_error_puts_the_recorded_intent_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_copies("chat-a", 2)

    def broken(sagemaker: object, component: str, copies: int) -> None:
        raise RuntimeError("connection reset")

    monkeypatch.setattr(aws, "set_copy_count", broken)
    with pytest.raises(RuntimeError, match="connection reset"):
        scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    # No copies were added, so neither the target nor the cooldown may stay recorded.
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None
    assert "scaler_copies" not in row and "last_scale_out_at" not in row
    assert world.copies("chat-a")[0] == 2


def test_a_claim_left_by_a_killed_invocation_is_taken_over_after_the_timeout(world: World) -> None:
    world.set_copies("chat-a", 2)
    event = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0])
    # An invocation claimed the event, then timed out: no Python error, so no release.
    store = claims.open_store(settings.settings())
    assert store.claim_event(
        parse_alarm_event(event).event_id, world.clock(), contract.SCALER_TIMEOUT_S
    )
    # A retry within the timeout may still race the first invocation: it is a duplicate.
    assert scaler.handler(event, CONTEXT)["action"] == "duplicate"
    # Once the timeout has passed, the retry does the work instead of dropping it.
    world.clock.advance(contract.SCALER_TIMEOUT_S + 1)
    out = scaler.handler(event, CONTEXT)
    assert out["action"] == "scaled"
    assert world.copies("chat-a")[0] == 4
    # Done now: a later redelivery is a duplicate however late it comes.
    world.clock.advance(3600)
    assert scaler.handler(event, CONTEXT)["action"] == "duplicate"
    assert world.copies("chat-a")[0] == 4


def test_an_alarm_that_flaps_keeps_one_reevaluation_chain(world: World) -> None:
    world.set_copies("chat-a", 2)
    first = "2026-11-28T01:00:00.000+0000"
    scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0], timestamp=first), CONTEXT
    )
    old_chain = world.reevaluations()[-1]
    # ALARM → OK → ALARM inside the 60 s cooldown: the second ALARM starts its own chain.
    scaler.handler(
        alarm_event(
            "chat-a",
            Trigger.SCALE_OUT,
            "OK",
            [3.0],
            previous="ALARM",
            timestamp="2026-11-28T01:00:20.000+0000",
        ),
        CONTEXT,
    )
    scaler.handler(
        alarm_event(
            "chat-a", Trigger.SCALE_OUT, "ALARM", [13.0], timestamp="2026-11-28T01:00:40.000+0000"
        ),
        CONTEXT,
    )
    new_chain = world.reevaluations()[-1]
    assert len(world.reevaluations()) == 2
    world.clock.advance(600)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    # The first chain's message comes due: dropped, and it schedules nothing more.
    out = world.deliver(old_chain, [13.0])
    assert out["outcomes"][0]["action"] == "superseded"
    assert len(world.reevaluations()) == 2
    # The live chain goes on.
    out = world.deliver(new_chain, [13.0])
    assert out["outcomes"][0]["action"] in ("scaled", "held")
    assert len(world.reevaluations()) == 3


def _scaled_to_four_then_reset(world: World) -> None:
    world.set_copies("chat-a", 2)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    world.clock.advance(600)
    assert world.copies("chat-a")[0] == 4
    world.set_copies("chat-a", 1)  # a redeploy applies the template's CopyCount


def test_reconcile_never_fails_a_delete_and_skips_unknown_components_on_update(
    world: World,
) -> None:
    _scaled_to_four_then_reset(world)
    gone = scaler.handler(custom_resource("Delete", "ep-a", ["removed-model"]), CONTEXT)
    assert gone["PhysicalResourceId"] == "reconcile-ep-a"
    out = scaler.handler(custom_resource("Update", "ep-a", ["removed-model", "chat-a"]), CONTEXT)
    assert out["Data"]["Restored"] == "chat-a=4"
    assert world.copies("chat-a")[0] == 4


@pytest.mark.filterwarnings("ignore:Exception\\(SagemakerClientError\\):UserWarning")
def test_reconcile_throttled_defers_through_the_queue_and_keeps_the_record(world: World) -> None:
    _scaled_to_four_then_reset(world)
    assert world.control is not None
    world.control.inject_fault(
        "UpdateInferenceComponentRuntimeConfig",
        "chat-a",
        "ThrottlingException",
        "Rate exceeded",
        times=4,
    )
    out = scaler.handler(custom_resource("Update", "ep-a", ["chat-a"]), CONTEXT)
    assert out["Data"]["Deferred"] == "chat-a"
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and row["scaler_copies"]["N"] == "4"
    done = world.deliver(world.reevaluations()[-1])
    assert done["outcomes"][0]["action"] == "restored"
    assert world.copies("chat-a")[0] == 4


def test_reconcile_undoes_its_record_when_the_update_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scaled_to_four_then_reset(world)
    before = world.row("ep-a", "COMPONENT#chat-a")

    def broken(sagemaker: object, component: str, copies: int) -> None:
        raise RuntimeError("connection reset")

    monkeypatch.setattr(aws, "set_copy_count", broken)
    with pytest.raises(RuntimeError):
        scaler.handler(custom_resource("Update", "ep-a", ["chat-a"]), CONTEXT)
    after = world.row("ep-a", "COMPONENT#chat-a")
    assert before is not None and after is not None
    assert after["scaler_set_at"] == before["scaler_set_at"]


def test_a_deferred_reconcile_restores_the_count_recorded_at_delivery(world: World) -> None:
    _scaled_to_four_then_reset(world)
    world.sagemaker.update_inference_component_runtime_config(
        InferenceComponentName="chat-a", DesiredRuntimeConfig={"CopyCount": 2}
    )
    assert world.status("chat-a") == "Updating"
    out = scaler.handler(custom_resource("Update", "ep-a", ["chat-a"]), CONTEXT)
    assert out["Data"]["Deferred"] == "chat-a"
    # Meanwhile the scaler scaled out further and recorded 6.
    store = claims.open_store(settings.settings())
    row = store.load_component("chat-a")
    store.commit_component("chat-a", row.version, {"scaler_copies": 6})
    world.clock.advance(600)
    done = world.deliver(world.reevaluations()[-1])
    assert done["outcomes"][0]["action"] == "restored"
    assert world.copies("chat-a")[0] == 6


def test_the_poll_writes_nothing_once_the_endpoint_is_gone(world: World) -> None:
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    cache_tracker.handler(
        eventbridge("Scheduled Event", {}, source="aws.events", event_id="tick-before"), CONTEXT
    )
    assert world.rows("ep-a")
    world.sagemaker.delete_endpoint(EndpointName="ep-a")
    cleanup.handler(
        eventbridge(
            "SageMaker Endpoint State Change",
            {"EndpointName": "ep-a", "EndpointStatus": "DELETING"},
            event_id="deleting",
        ),
        CONTEXT,
    )
    assert world.row_keys("ep-a") == ["DELETED"]  # the tombstone alone
    # The 1-minute poll keeps running until the stack is gone: it must not bring rows back.
    out = cache_tracker.handler(
        eventbridge("Scheduled Event", {}, source="aws.events", event_id="tick-after"), CONTEXT
    )
    assert out["components"] == []
    assert world.row_keys("ep-a") == ["DELETED"]


def test_a_component_that_is_gone_leaves_no_cache_rows(world: World) -> None:
    world.sagemaker.delete_inference_component(InferenceComponentName="chat-a")
    out = cache_tracker.observe(
        settings.settings(),
        claims.open_store(settings.settings()),
        settings.settings().component("chat-a"),
        None,
        world.sagemaker,
    )
    assert out["status"] == "absent"
    assert world.rows("ep-a") == []


def test_sqs_request_throttled_is_throttling() -> None:
    from botocore.exceptions import ClientError

    error = ClientError(
        {"Error": {"Code": "RequestThrottled", "Message": "slow down"}}, "SendMessage"
    )
    assert isinstance(aws.classify(error), aws.Throttled)


class _ThrottledBatches:
    """A table whose BatchWriteItem leaves everything unprocessed ``throttled`` times."""

    def __init__(self, throttled: int) -> None:
        self.throttled = throttled
        self.calls = 0

    def query(self, **kwargs: object) -> dict[str, object]:
        return {"Items": [{"pk": {"S": "ep-a"}, "sk": {"S": "ENDPOINT"}}]}

    def batch_write_item(self, RequestItems: dict[str, object]) -> dict[str, object]:
        self.calls += 1
        return {"UnprocessedItems": RequestItems if self.calls <= self.throttled else {}}


def test_purge_backs_off_exponentially_between_unprocessed_retries() -> None:
    slept: list[float] = []
    db = _ThrottledBatches(throttled=3)
    store = state.StateStore(db, "t", "ep-a", 30, sleep=slept.append)
    assert store.purge() == 1
    assert db.calls == 4
    base = state.PURGE_BACKOFF_BASE_S
    assert slept == [base, 2 * base, 4 * base]


def test_purge_gives_up_after_five_attempts() -> None:
    slept: list[float] = []
    store = state.StateStore(_ThrottledBatches(throttled=99), "t", "ep-a", 30, sleep=slept.append)
    with pytest.raises(state.StateUnavailable, match="1 rows left unprocessed"):
        store.purge()
    assert len(slept) == 4


def test_log_keys_of_one_queue_record_do_not_tag_the_next(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import json
    import logging

    from lambdas.control_plane.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    monkeypatch.setattr(handler, "stream", stream)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    good = world.reevaluations()[-1]
    event = {
        "Records": [
            {**sqs_event(good.body, "m-good")["Records"][0]},
            {**sqs_event("not json", "m-bad")["Records"][0]},
        ]
    }
    out = scaler.handler(event, CONTEXT)
    assert out["batchItemFailures"] == [{"itemIdentifier": "m-bad"}]
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    rejected = next(line for line in lines if line["message"] == "rejected queue message")
    assert rejected["endpoint"] == "ep-a"
    assert rejected.get("alarm") is None and "component" not in rejected
