"""The scaler handler against moto: real-shaped events in, copy counts and rows out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdas.control_plane import bookkeeping, contract, followups, scaler, settings, state
from lambdas.control_plane.decision import Trigger
from lambdas.control_plane.events import ForeignEndpoint, UnknownComponent
from tests.helpers import (
    CONTEXT,
    IMAGE,
    TABLE,
    World,
    alarm_event,
    custom_resource,
    emf_metrics,
    make_spec,
    sqs_event,
    use_endpoint,
)


def scaled_decisions(world: World, endpoint: str = "ep-a") -> list[dict[str, Any]]:
    return [
        r
        for r in world.rows(endpoint)
        if r["sk"]["S"].startswith("DECISION#") and r["action"]["S"] == "scaled"
    ]


def test_scale_out_adds_copies_in_one_step_sized_by_the_breach(world: World) -> None:
    # Given 2 serving copies at 13 requests per copy against a threshold of 8 (62 % over)
    world.set_copies("chat-a", 2)
    # When the scale-out alarm fires
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [9.0, 13.0]), CONTEXT)
    # Then the +100 % step adds 2 copies at once, and a re-evaluation follows the cooldown
    assert out["action"] == "scaled" and out["reason"] == "ScaleOut"
    assert world.copies("chat-a")[0] == 4
    assert [s.delay_s for s in world.reevaluations()] == [60]
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and row["scaler_copies"]["N"] == "4"
    assert len(scaled_decisions(world)) == 1


def test_a_bigger_breach_takes_a_bigger_step_cut_to_max_step(world: World) -> None:
    world.set_copies("chat-a", 3)
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [30.0]), CONTEXT)
    # 30 per copy is 275 % over: +200 % of 3 = 6 copies, cut to max_step_copies 4.
    assert out["reason"] == "ScaleUpLimit"
    assert world.copies("chat-a")[0] == 7


def test_scale_out_continues_while_the_alarm_stays_in_alarm_and_stops_on_ok(world: World) -> None:
    world.set_copies("chat-a", 2)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert world.copies("chat-a")[0] == 4
    # The new copies arrive; demand is still far over the threshold and the alarm stays in ALARM.
    world.clock.advance(600)
    assert world.copies("chat-a") == (4, 4)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    out = world.deliver(world.reevaluations()[-1], [12.0, 12.5, 13.0])
    assert out["batchItemFailures"] == []
    assert out["outcomes"][0]["action"] == "scaled"
    assert world.copies("chat-a")[0] == 8  # +100 % of 4 serving
    assert len(world.reevaluations()) == 2
    # The alarm returns to OK: the pending re-evaluation stops the chain, nothing changes.
    world.clock.advance(600)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "OK")
    out = world.deliver(world.reevaluations()[-1])
    assert out["outcomes"][0]["action"] == "stopped"
    assert world.copies("chat-a")[0] == 8
    assert len(world.reevaluations()) == 2


def test_a_reevaluation_reads_datapoints_that_arrived_with_publishing_delay(world: World) -> None:
    # Given a scale-out in flight and an alarm that stays in ALARM
    world.set_copies("chat-a", 2)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    world.clock.advance(600)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    sent = world.reevaluations()[-1]
    world.clock.advance(sent.delay_s)
    # When the latest datapoints are 30 s old, as high-resolution metrics are when published
    world.put_concurrency("chat-a", [13.0, 13.0, 13.0], lag_s=30)
    out = scaler.handler(sqs_event(sent.body, "m-lagged"), CONTEXT)
    # Then the scaler reads them (13 per copy on 4: +100 %), not the no-data smallest step (+50 %)
    assert out["outcomes"][0]["action"] == "scaled"
    assert world.copies("chat-a")[0] == 8


def test_an_ok_transition_changes_nothing_and_schedules_nothing(world: World) -> None:
    out = scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_OUT, "OK", [3.0], previous="ALARM"), CONTEXT
    )
    assert out["action"] == "stopped" and out["reason"] == "AlarmNotInAlarm"
    assert world.copies("chat-a") == (1, 1)
    assert world.reevaluations() == []


def test_scale_in_removes_one_copy_then_waits_for_its_cooldown(world: World) -> None:
    world.set_copies("chat-a", 2)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    world.clock.advance(720)  # the new copies are serving, the 60 s scale-out cooldown is over
    assert world.copies("chat-a") == (4, 4)
    quiet = [0.5] * 10
    # Past the scale-out's cooldown, a quiet window removes one copy.
    first = scaler.handler(
        alarm_event(
            "chat-a",
            Trigger.SCALE_IN,
            "ALARM",
            quiet,
            timestamp="2026-11-28T01:20:00.000+0000",
            period_s=60,
        ),
        CONTEXT,
    )
    assert first["action"] == "scaled" and world.copies("chat-a")[0] == 3
    # A second scale-in alarm right after is blocked by the scale-in cooldown (300 s).
    blocked = scaler.handler(
        alarm_event(
            "chat-a",
            Trigger.SCALE_IN,
            "ALARM",
            quiet,
            timestamp="2026-11-28T01:21:00.000+0000",
            period_s=60,
        ),
        CONTEXT,
    )
    assert blocked["reason"] == "Cooldown"
    assert world.copies("chat-a")[0] == 3
    # After the cooldown the re-evaluation removes one more.
    world.set_alarm("chat-a", Trigger.SCALE_IN, "ALARM")
    world.clock.advance(301)
    out = world.deliver(world.reevaluations()[-1], quiet, period_s=60)
    assert out["outcomes"][0]["action"] == "scaled"
    assert world.copies("chat-a")[0] == 2


def test_scale_in_never_happens_on_partial_data(world: World) -> None:
    world.set_copies("chat-a", 3)
    out = scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_IN, "ALARM", [0.5] * 4, period_s=60), CONTEXT
    )
    assert out["reason"] == "PartialData"
    assert world.copies("chat-a")[0] == 3


def test_scale_from_zero_on_no_capacity_failures(world: World) -> None:
    assert world.copies("zero-a") == (0, 0)
    out = scaler.handler(alarm_event("zero-a", Trigger.FROM_ZERO, "ALARM", [3.0]), CONTEXT)
    assert out["reason"] == "ScaleFromZero"
    assert world.copies("zero-a")[0] == 1


def test_the_same_event_twice_scales_once(world: World) -> None:
    world.set_copies("chat-a", 2)
    event = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0])
    first = scaler.handler(event, CONTEXT)
    second = scaler.handler(event, CONTEXT)
    assert first["action"] == "scaled" and second["action"] == "duplicate"
    assert world.copies("chat-a")[0] == 4
    assert len(scaled_decisions(world)) == 1
    assert len(world.reevaluations()) == 1


def test_two_racing_invocations_lose_no_update(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Copies arrive at once here, so the component is InService again right after an update:
    # only the conditional write can stop a stale decision from overwriting a newer one.
    assert world.control is not None
    world.control.set_ready_delay(lambda component, path, held: 0.0)
    world.set_copies("chat-a", 2)
    small = alarm_event(
        "chat-a", Trigger.SCALE_OUT, "ALARM", [9.0], timestamp="2026-11-28T01:00:00.000+0000"
    )
    big = alarm_event(
        "chat-a", Trigger.SCALE_OUT, "ALARM", [20.0], timestamp="2026-11-28T01:00:10.000+0000"
    )
    original = state.StateStore.load_components
    raced: list[dict[str, Any]] = []
    started: list[bool] = []

    def load_then_race(self: state.StateStore) -> dict[str, state.ComponentState]:
        rows = original(self)
        if not started:  # the small invocation has read its state; the big one runs to the end
            started.append(True)
            raced.append(scaler.handler(big, CONTEXT))
        return rows

    monkeypatch.setattr(state.StateStore, "load_components", load_then_race)
    small_out = scaler.handler(small, CONTEXT)
    # The big breach (150 % over: +200 %, cut to 4) went first: 2 + 4 = 6. The small one had
    # planned 2 + 1 = 3 from what it read; its conditional write failed, it read again (6
    # copies now) and decided from there, so the 6 were never overwritten by a 3.
    assert raced[0]["action"] == "scaled" and raced[0]["target_copies"] == 6
    assert small_out["desired_copies"] == 6
    assert small_out["target_copies"] >= 6
    assert world.copies("chat-a")[0] == small_out["target_copies"]


def test_a_busy_component_defers_and_the_retry_scales(world: World) -> None:
    world.sagemaker.update_inference_component_runtime_config(
        InferenceComponentName="chat-a", DesiredRuntimeConfig={"CopyCount": 2}
    )
    assert world.status("chat-a") == "Updating"
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [30.0]), CONTEXT)
    assert out["action"] == "deferred" and out["reason"] == "ComponentBusy"
    assert world.copies("chat-a")[0] == 2
    retry = world.reevaluations()[-1]
    assert retry.delay_s == followups.BUSY_RETRY_S and retry.message["attempt"] == 1
    # The update finishes; the alarm is still in ALARM when the retry comes due.
    world.clock.advance(600)
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    done = world.deliver(retry, [30.0])
    assert done["outcomes"][0]["action"] == "scaled"
    assert world.copies("chat-a")[0] == 6


@pytest.mark.filterwarnings("ignore:Exception\\(SagemakerClientError\\):UserWarning")
def test_throttling_backs_off_exponentially_and_counts_an_error(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert world.control is not None
    # Every SDK attempt of two invocations is throttled (the first try and 3 retries each).
    world.control.inject_fault(
        "UpdateInferenceComponentRuntimeConfig",
        "chat-a",
        "ThrottlingException",
        "Rate exceeded",
        times=8,
    )
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "deferred" and out["reason"] == "Throttled"
    first = world.reevaluations()[-1]
    assert first.delay_s == followups.THROTTLE_BASE_S
    world.set_alarm("chat-a", Trigger.SCALE_OUT, "ALARM")
    world.deliver(first, [13.0])
    assert world.reevaluations()[-1].delay_s == 2 * followups.THROTTLE_BASE_S
    assert world.copies("chat-a")[0] == 1
    # The intent recorded before each failed call was put back.
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and "scaler_copies" not in row
    errors = [m for m in emf_metrics(capsys.readouterr().out) if m["name"] == "ScalingErrors"]
    assert len(errors) == 2
    # Throttling over: the next retry scales.
    world.deliver(world.reevaluations()[-1], [13.0])
    assert world.copies("chat-a")[0] == 2  # 1 copy 62 % over: +100 % = 1 more


def test_a_limit_error_is_recorded_counted_and_not_retried_soon(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert world.control is not None
    world.control.inject_fault(
        "UpdateInferenceComponentRuntimeConfig",
        "chat-a",
        "ResourceLimitExceeded",
        "account limit for ml.g6.2xlarge: 2",
    )
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "error" and out["reason"] == "ResourceLimitExceeded"
    assert world.copies("chat-a")[0] == 1
    errors = world.row_keys("ep-a", "ERROR#")
    assert len(errors) == 1
    assert [s.delay_s for s in world.reevaluations()] == [followups.CAPACITY_RETRY_S]
    metrics = emf_metrics(capsys.readouterr().out)
    assert any(
        m["name"] == "ScalingErrors" and m["dimensions"]["InferenceComponentName"] == "chat-a"
        for m in metrics
    )


def test_an_unknown_alarm_is_refused_and_changes_nothing(world: World) -> None:
    before = world.rows("ep-a")
    with pytest.raises(UnknownComponent, match="not one of endpoint 'ep-a'"):
        scaler.handler(alarm_event("chat-b", Trigger.SCALE_OUT, "ALARM", [30.0]), CONTEXT)
    event = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [30.0])
    event["alarmData"]["alarmName"] = "chat-a-high-latency"
    with pytest.raises(UnknownComponent, match="allowed: <component>-scale-out"):
        scaler.handler(event, CONTEXT)
    assert world.rows("ep-a") == before
    assert world.copies("chat-b") == (1, 1) and world.copies("chat-a") == (1, 1)


def test_table_unavailable_scale_out_still_happens(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_copies("chat-a", 2)
    use_endpoint(monkeypatch, world, "ep-a", table="no-such-table")
    out = scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    assert out["action"] == "scaled"
    assert world.copies("chat-a")[0] == 4


def test_table_unavailable_scale_in_does_not(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.set_copies("chat-a", 3)
    use_endpoint(monkeypatch, world, "ep-a", table="no-such-table")
    out = scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_IN, "ALARM", [0.5] * 10, period_s=60), CONTEXT
    )
    assert out["reason"] == "StateUnavailable"
    assert world.copies("chat-a")[0] == 3


def test_a_redeploy_reset_is_restored_by_reconcile(world: World) -> None:
    world.set_copies("chat-a", 2)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    world.clock.advance(600)
    assert world.copies("chat-a")[0] == 4
    # A redeploy applies the template's CopyCount of 1.
    world.set_copies("chat-a", 1)
    out = scaler.handler(custom_resource("Update", "ep-a", ["chat-a"]), CONTEXT)
    assert out["PhysicalResourceId"] == "reconcile-ep-a"
    assert out["Data"]["Restored"] == "chat-a=4"
    assert world.copies("chat-a")[0] == 4
    # Nothing to restore the second time; Delete does nothing.
    again = scaler.handler(custom_resource("Update", "ep-a", ["chat-a"]), CONTEXT)
    assert again["Data"]["Restored"] == ""
    scaler.handler(custom_resource("Delete", "ep-a", ["chat-a"]), CONTEXT)
    assert world.copies("chat-a")[0] == 4


def test_reconcile_while_the_component_is_busy_defers_through_the_queue(world: World) -> None:
    world.set_copies("chat-a", 2)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    world.clock.advance(600)
    # The redeploy resets to 1 (a scale-in completes at once), then something else asks for 2,
    # which takes minutes: the component is Updating when Reconcile runs.
    world.sagemaker.update_inference_component_runtime_config(
        InferenceComponentName="chat-a", DesiredRuntimeConfig={"CopyCount": 1}
    )
    world.sagemaker.update_inference_component_runtime_config(
        InferenceComponentName="chat-a", DesiredRuntimeConfig={"CopyCount": 2}
    )
    assert world.status("chat-a") == "Updating"
    out = scaler.handler(custom_resource("Update", "ep-a", ["chat-a"]), CONTEXT)
    assert out["Data"]["Deferred"] == "chat-a"
    world.clock.advance(600)
    done = world.deliver(world.reevaluations()[-1])
    assert done["outcomes"][0]["action"] == "restored"
    assert world.copies("chat-a")[0] == 4


def test_reconcile_for_another_endpoint_is_refused(world: World) -> None:
    with pytest.raises(ForeignEndpoint):
        scaler.handler(custom_resource("Update", "ep-b", ["chat-b"]), CONTEXT)
    assert world.copies("chat-b") == (1, 1)


def test_a_foreign_queue_message_is_returned_as_a_batch_failure(world: World) -> None:
    body = (
        '{"kind": "reevaluate", "endpoint": "ep-b", "component": "chat-b", '
        '"trigger": "scale_out", "alarm_name": "chat-b-scale-out", "attempt": 0, '
        '"period_s": 10, "stat": "Average"}'
    )
    world.set_alarm("chat-b", Trigger.SCALE_OUT, "ALARM")
    out = scaler.handler(sqs_event(body, "m-foreign"), CONTEXT)
    assert out["batchItemFailures"] == [{"itemIdentifier": "m-foreign"}]
    assert world.copies("chat-b") == (1, 1)


def test_decisions_emit_metrics_in_the_contract_namespace(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    metrics = emf_metrics(capsys.readouterr().out)
    names = {m["name"] for m in metrics}
    assert {"ScalingDecisions", "TargetCopies"} <= names
    assert all(m["namespace"] == "SageMakerFastScale" for m in metrics)
    assert all(m["dimensions"]["EndpointName"] == "ep-a" for m in metrics)


def test_every_log_line_names_the_endpoint_and_alarm(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import logging
    import sys

    from lambdas.control_plane.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    # The stream pytest captures for this test, put back afterwards.
    monkeypatch.setattr(handler, "stream", sys.stdout)
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    lines = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"level"' in line
    ]
    assert lines
    assert all(line["endpoint"] == "ep-a" and line["alarm"] == "chat-a-scale-out" for line in lines)
    decision = next(line for line in lines if line["message"] == "decision")
    assert decision["reason"] == "ScaleOut" and decision["inputs"]["concurrency_per_copy"] == 13.0


def test_table_name_in_use_is_the_one_configured(world: World) -> None:
    # Guards the fixture itself: a wrong table would make the fail-open tests vacuous.
    scaler.handler(alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0]), CONTEXT)
    row = world.dynamodb.get_item(
        TableName=TABLE, Key={"pk": {"S": "ep-a"}, "sk": {"S": "COMPONENT#chat-a"}}
    )
    assert row["Item"]["scaler_copies"]["N"] == "2"


def test_the_phases_alarm_to_decision_and_decision_to_desired_are_published(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an alarm that went to ALARM 3 s before the scaler runs
    world.set_copies("chat-a", 2)
    changed = datetime.fromtimestamp(world.clock() - 3, UTC)
    stamp = changed.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    capsys.readouterr()
    # When it scales out
    event = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0], timestamp=stamp)
    out = scaler.handler(event, CONTEXT)
    assert out["action"] == "scaled"
    # Then both phases are published for the component, in seconds
    metrics = {m["name"]: m for m in emf_metrics(capsys.readouterr().out)}
    to_decision = metrics["AlarmToDecisionSeconds"]
    assert to_decision["value"] == [pytest.approx(3.0)]
    assert to_decision["dimensions"]["InferenceComponentName"] == "chat-a"
    assert metrics["DecisionToDesiredSeconds"]["value"] == [0.0]  # the fake clock stood still
    # A re-evaluation has no transition of its own: no alarm-to-decision phase
    world.deliver(world.reevaluations()[-1], [30.0, 30.0, 30.0])
    names = [m["name"] for m in emf_metrics(capsys.readouterr().out)]
    assert "AlarmToDecisionSeconds" not in names


def test_the_forecasters_floor_and_recent_bursts_on_the_row_reach_the_decision(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given chat-a with the forecast and burst rules on, and 4 quiet copies
    spec = make_spec("ep-a", "chat-a", forecast_interval_s=300, burst_hold_probability=0.5)
    document = {"chat-a": {"spec": spec.to_dict(), "image": IMAGE, "model": "m-chat-a"}}
    monkeypatch.setenv(contract.ENV_COMPONENTS, json.dumps(document))
    settings.settings.cache_clear()
    world.set_copies("chat-a", 4)
    store = state.StateStore(world.dynamodb, TABLE, "ep-a", 30)
    row = store.load_components().get("chat-a") or state.ComponentState("chat-a")
    # And the forecaster's last run keeps 4 copies for the next 10 minutes
    record = bookkeeping.forecast_record(4, [], world.clock(), 300)
    store.commit_component("chat-a", row.version, record.values)
    quiet = [0.5] * 10
    out = scaler.handler(
        alarm_event("chat-a", Trigger.SCALE_IN, "ALARM", quiet, period_s=60), CONTEXT
    )
    # Then scale-in holds at the forecast floor
    assert out["reason"] == "ForecastFloor"
    assert world.copies("chat-a")[0] == 4
    # When the floor lapses but bursts came every 600 s and the last began 400 s ago
    world.clock.advance(601)
    now = world.clock()
    row = store.load_components()["chat-a"]
    starts = [now - 400 - 600 * k for k in range(5)]
    store.commit_component(
        "chat-a", row.version, bookkeeping.forecast_record(1, starts, now, 300).values
    )
    out = scaler.handler(
        alarm_event(
            "chat-a",
            Trigger.SCALE_IN,
            "ALARM",
            quiet,
            period_s=60,
            timestamp="2026-11-28T02:00:00.000+0000",
        ),
        CONTEXT,
    )
    # Then the copies are held for the burst that a cold start could not meet
    assert out["reason"] == "BurstHold"
    assert world.copies("chat-a")[0] == 4
