"""The scaler under AWS's less common answers: an update that happened although its call failed,
throttled reads, a busy endpoint, refusals of no known meaning, instance shortages, and
components that do not exist (issue 10, items 3 to 7)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from lambdas.control_plane import aws, followups, scaler
from lambdas.control_plane.decision import History, Trigger
from lambdas.control_plane.state import ComponentState
from tests.helpers import (
    CONTEXT,
    World,
    alarm_event,
    custom_resource,
    emf_metrics,
    make_spec,
    sqs_event,
)

QUIET = [0.5] * 10


def scale_in_alarm(timestamp: str) -> dict[str, Any]:
    return alarm_event("chat-a", Trigger.SCALE_IN, "ALARM", QUIET, timestamp=timestamp, period_s=60)


# --- item 3: an update that happened although its call failed --------------------------------
def test_a_scale_in_applied_before_its_call_failed_keeps_its_cooldown(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_copies("chat-a", 4)
    applied = aws.set_copy_count
    failures: list[bool] = []

    def applied_then_failed(sagemaker: Any, name: str, copies: int) -> None:
        applied(sagemaker, name, copies)
        if not failures:  # the SDK's retry met the update its first attempt had started
            failures.append(True)
            raise aws.Busy("ValidationException", "Cannot update in-progress inference component")

    monkeypatch.setattr(aws, "set_copy_count", applied_then_failed)
    out = scaler.handler(scale_in_alarm("2026-11-28T01:20:00.000+0000"), CONTEXT)
    # What happened is kept: 4 -> 3, with its cooldown recorded.
    assert out["action"] == "scaled" and out["target_copies"] == 3
    assert world.copies("chat-a")[0] == 3
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and "last_scale_in_at" in row
    # A minute later the scale-in cooldown (300 s) still holds: no second copy goes.
    world.clock.advance(60)
    again = scaler.handler(scale_in_alarm("2026-11-28T01:21:00.000+0000"), CONTEXT)
    assert again["reason"] == "Cooldown"
    assert world.copies("chat-a")[0] == 3


def test_a_scale_out_applied_before_a_read_timeout_is_kept_and_not_retried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_copies("chat-a", 2)
    applied = aws.set_copy_count

    def applied_then_timed_out(sagemaker: Any, name: str, copies: int) -> None:
        applied(sagemaker, name, copies)
        raise TimeoutError("Read timeout on endpoint URL")

    monkeypatch.setattr(aws, "set_copy_count", applied_then_timed_out)
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "scaled" and world.copies("chat-a")[0] == 4
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and row["scaler_copies"]["N"] == "4" and "last_scale_out_at" in row
    # The chain goes on after the cooldown, not through a quick retry.
    assert [s.delay_s for s in world.reevaluations()] == [60]


# --- item 4: throttled DescribeInferenceComponent -------------------------------------------
@pytest.mark.filterwarnings("ignore:Exception\\(SagemakerClientError\\):UserWarning")
def test_a_throttled_describe_defers_through_the_queue_with_backoff(world: World) -> None:
    assert world.control is not None
    world.set_copies("chat-a", 2)

    def throttle_one_invocation() -> None:  # the first try and the SDK's 3 retries
        assert world.control is not None
        world.control.inject_fault(
            "DescribeInferenceComponent", "chat-a", "ThrottlingException", "Rate exceeded", 4
        )

    # An earlier transition's chain exists: the deferred look must not read as superseded by it.
    scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [3.0], timestamp="t-earlier"), CONTEXT
    )
    world.sent.clear()
    throttle_one_invocation()
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "deferred" and out["reason"] == "Throttled"
    first = world.reevaluations()[-1]
    assert first.delay_s == followups.THROTTLE_BASE_S and first.message["attempt"] == 1
    # On the queue path too: deferred again with twice the delay, not a batch failure.
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    throttle_one_invocation()
    second = world.deliver(first, [13.0])
    assert second["batchItemFailures"] == []
    assert second["outcomes"][0]["reason"] == "Throttled"
    assert world.reevaluations()[-1].delay_s == 2 * followups.THROTTLE_BASE_S
    # Throttling over: the next look scales.
    done = world.deliver(world.reevaluations()[-1], [13.0])
    assert done["outcomes"][0]["action"] == "scaled" and world.copies("chat-a")[0] == 4


# --- item 5: busy endpoint or sibling; refusals of no known meaning --------------------------
def test_an_endpoint_being_updated_defers_the_update(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_copies("chat-a", 2)
    describe = aws.describe_endpoint

    def updating(sagemaker: Any, name: str) -> aws.EndpointObservation:
        return dataclasses.replace(describe(sagemaker, name), status="Updating")

    monkeypatch.setattr(aws, "describe_endpoint", updating)
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "deferred" and out["reason"] == "EndpointBusy"
    assert world.copies("chat-a")[0] == 2
    retry = world.reevaluations()[-1]
    assert retry.delay_s == followups.BUSY_RETRY_S and retry.message["attempt"] == 1


def test_a_sibling_being_created_defers_the_update(world: World) -> None:
    world.set_copies("chat-a", 2)
    # zero-a is created again (a deploy): Creating until its copy serves.
    world.sagemaker.delete_inference_component(InferenceComponentName="zero-a")
    world.sagemaker.create_inference_component(
        InferenceComponentName="zero-a",
        EndpointName="ep-a",
        VariantName="AllTraffic",
        Specification={
            "ModelName": "m-zero-a",
            "ComputeResourceRequirements": {
                "NumberOfAcceleratorDevicesRequired": 1,
                "MinMemoryRequiredInMb": 16384,
            },
        },
        RuntimeConfig={"CopyCount": 1},
    )
    assert world.status("zero-a") == "Creating"
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "deferred" and out["reason"] == "EndpointBusy"
    assert "zero-a is Creating" in out["detail"]
    assert world.copies("chat-a")[0] == 2


def test_a_sibling_changing_its_copy_count_does_not_block(world: World) -> None:
    world.set_copies("chat-a", 2)
    world.sagemaker.update_inference_component_runtime_config(
        InferenceComponentName="zero-a", DesiredRuntimeConfig={"CopyCount": 1}
    )
    assert world.status("zero-a") == "Updating"
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "scaled" and world.copies("chat-a")[0] == 4


@pytest.mark.filterwarnings("ignore:Exception\\(SagemakerClientError\\):UserWarning")
def test_an_unknown_validation_exception_is_counted_recorded_and_raised(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert world.control is not None
    world.set_copies("chat-a", 2)
    refusal = "Inference component cannot be updated for a reason nobody documented"
    world.control.inject_fault(
        "UpdateInferenceComponentRuntimeConfig", "chat-a", "ValidationException", refusal, 2
    )
    event = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0])
    # The alarm path: raised, so that Lambda's retries and then its failure destination get it.
    with pytest.raises(aws.AwsFault, match="nobody documented"):
        scaler.handler(event, CONTEXT)
    assert world.copies("chat-a")[0] == 2
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and "scaler_copies" not in row  # the intent was put back
    assert len(world.row_keys("ep-a", "ERROR#")) == 1
    errors = [m for m in emf_metrics(capsys.readouterr().out) if m["name"] == "ScalingErrors"]
    assert len(errors) == 1
    # The queue path: a batch failure (retried, then the queue's dead-letter queue).
    body = (
        '{"kind": "reevaluate", "endpoint": "ep-a", "component": "chat-a", '
        '"trigger": "scale_out", "alarm_name": "chat-a-scale-out", "attempt": 0, '
        '"period_s": 10, "stat": "Average"}'
    )
    world.clock.advance(60)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    world.put_concurrency("chat-a", [13.0])
    out = scaler.handler(sqs_event(body, "m-refused"), CONTEXT)
    assert out["batchItemFailures"] == [{"itemIdentifier": "m-refused"}]
    assert len(world.row_keys("ep-a", "ERROR#")) == 2


# --- item 6: instance shortage -------------------------------------------------------------
def test_a_component_stuck_updating_past_its_predicted_time_is_a_shortage(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # ep-a has at most 8 one-GPU instances: zero-a holds one, chat-a's 4 copies hold four.
    world.set_copies("zero-a", 1)
    world.set_copies("chat-a", 4)
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [30.0]), CONTEXT)
    assert out["action"] == "scaled" and out["target_copies"] == 8  # 4 more; room for 3
    # Far past the predicted 525 s (uncached): 7 of 8 copies serve and the component is
    # still Updating; the alarm is still in ALARM.
    world.clock.advance(1100)
    assert world.status("chat-a") == "Updating" and world.copies("chat-a") == (8, 7)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    capsys.readouterr()
    look = world.deliver(world.reevaluations()[-1], [30.0])
    outcome = look["outcomes"][0]
    assert outcome["action"] == "error" and outcome["reason"] == "InstanceShortage"
    errors = world.row_keys("ep-a", "ERROR#")
    assert len(errors) == 1
    row = world.row("ep-a", errors[0])
    assert row is not None and row["code"]["S"] == "InstanceShortage"
    shortages = [
        m for m in emf_metrics(capsys.readouterr().out) if m["name"] == "CapacityShortages"
    ]
    assert [m["dimensions"]["InferenceComponentName"] for m in shortages] == ["chat-a"]
    # Never a loop: the next look comes after the capacity back-off, not the 60 s cooldown.
    assert world.reevaluations()[-1].delay_s == followups.CAPACITY_RETRY_S
    assert world.copies("chat-a")[0] == 8


@pytest.mark.parametrize(
    ("component_reason", "endpoint_reason"),
    [
        (
            "Unable to provision requested ML compute capacity due to InsufficientInstanceCapacity",
            None,
        ),
        (None, "Insufficient capacity for ml.g6.2xlarge in us-east-1a"),
    ],
)
def test_a_failure_reason_naming_capacity_is_a_shortage(
    component_reason: str | None, endpoint_reason: str | None
) -> None:
    from lambdas.control_plane.obstacles import shortage_reason

    component = aws.ComponentObservation("chat-a", "ep-a", "Failed", 4, 2, component_reason)
    endpoint = aws.EndpointObservation("ep-a", "InService", 2, 4, endpoint_reason)
    spec = make_spec("ep-a", "chat-a")
    why = shortage_reason(component, endpoint, ComponentState("chat-a"), History(), spec, 0.0)
    assert why is not None and "capacity" in why.lower()
    healthy = aws.ComponentObservation("chat-a", "ep-a", "InService", 4, 4)
    assert shortage_reason(healthy, None, ComponentState("chat-a"), History(), spec, 0.0) is None


# --- item 7: a component that does not exist (yet, or any more) ----------------------------
def test_a_component_that_does_not_exist_is_a_clean_no_op(world: World) -> None:
    world.sagemaker.delete_inference_component(InferenceComponentName="chat-a")
    before = world.rows("ep-a")
    # A fresh deploy's alarm goes INSUFFICIENT_DATA -> OK before its component exists.
    ok = alarm_event(
        "chat-a", Trigger.SCALE_OUT, "OK", [], previous="INSUFFICIENT_DATA", timestamp="t-ok"
    )
    out = scaler.handler(ok, CONTEXT)
    assert out["action"] == "stopped" and out["reason"] == "ComponentNotFound"
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "stopped" and out["reason"] == "ComponentNotFound"
    assert world.reevaluations() == []
    # A re-evaluation still queued for it: consumed, no batch failure, nothing scheduled.
    body = (
        '{"kind": "reevaluate", "endpoint": "ep-a", "component": "chat-a", '
        '"trigger": "scale_out", "alarm_name": "chat-a-scale-out", "attempt": 0, '
        '"period_s": 10, "stat": "Average"}'
    )
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    queued = scaler.handler(sqs_event(body, "m-gone"), CONTEXT)
    assert queued["batchItemFailures"] == []
    assert queued["outcomes"][0]["reason"] == "ComponentNotFound"
    assert world.reevaluations() == []
    assert [r for r in world.rows("ep-a") if not r["sk"]["S"].startswith("EVENT#")] == [
        r for r in before if not r["sk"]["S"].startswith("EVENT#")
    ]


def test_reconcile_of_a_component_that_is_gone_does_not_fail_the_deploy(world: World) -> None:
    world.set_copies("chat-a", 2)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    world.sagemaker.delete_inference_component(InferenceComponentName="chat-a")
    out = scaler.handler(custom_resource("Update", "ep-a", ["chat-a"]), CONTEXT)
    assert out["Data"] == {"Restored": "", "Deferred": ""}
