"""One strict, bounded parse for the alarm path and the queue path (issue 10, item 9)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.control_plane import contract, evaluation_types, events, scaler
from lambdas.control_plane.decision import Trigger
from lambdas.control_plane.events import (
    EventError,
    Reevaluation,
    parse_alarm_event,
    parse_queue_message,
)
from tests.helpers import CONTEXT, World, alarm_event, sqs_event


def _with_reason(reason_data: Any) -> dict[str, Any]:
    event = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0])
    event["alarmData"]["state"]["reasonData"] = reason_data
    return event


def _with_metric_stat(**changes: Any) -> dict[str, Any]:
    event = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0])
    event["alarmData"]["configuration"]["metrics"][0]["metricStat"].update(changes)
    return event


@pytest.mark.parametrize(
    ("reason_data", "says"),
    [
        ('{"recentDatapoints": [' + "9" * 5000 + "]}", "at most 4000"),
        ('{"recentDatapoints": [' + "9" * 3000 + "]}", "at most 20 digits"),
        ("[" * 5000 + "]" * 5000, "at most 4000"),
        ("[" * 1000 + "]" * 1000, "levels deep"),
        ('{"recentDatapoints": [1e999]}', "finite"),
        ('{"recentDatapoints": [NaN]}', "finite"),
        ('{"recentDatapoints": [1], "recentDatapoints": [99]}', "duplicate key"),
        ('{"recentDatapoints": "13"}', "list of numbers"),
        ('{"recentDatapoints": [true]}', "list of numbers"),
        ("x" * 10_000_000, "at most 4000"),
        ("not json", "not valid JSON"),
        ("[13.0]", "JSON object"),
        (13, "JSON string"),
    ],
)
def test_a_forged_reason_is_refused_with_a_clear_error(reason_data: Any, says: str) -> None:
    with pytest.raises(EventError, match=says) as raised:
        parse_alarm_event(_with_reason(reason_data))
    assert "reasonData" in str(raised.value)
    assert len(str(raised.value)) < 300  # never the input itself


def test_an_alarm_without_numbers_still_parses() -> None:
    event = _with_reason(None)
    del event["alarmData"]["state"]["reasonData"]
    assert parse_alarm_event(event).datapoints == ()
    assert parse_alarm_event(_with_reason('{"version": "1.0"}')).datapoints == ()


@pytest.mark.parametrize(
    "changes",
    [
        {"period": True},
        {"period": 0},
        {"period": -10},
        {"period": 10.0},
        {"period": "10"},
        {"period": 10**5000},
        {"period": 86401},
        {"stat": "A" * 300},
        {"stat": "Average\n"},
        {"stat": "p101"},
        {"stat": 5},
    ],
)
def test_the_alarm_path_refuses_what_the_queue_path_refuses(changes: dict[str, Any]) -> None:
    with pytest.raises(EventError, match=r"period|stat"):
        parse_alarm_event(_with_metric_stat(**changes))
    message = _message(
        period_s=changes.get("period", 10),
        stat=changes.get("stat", "Average"),
    )
    with pytest.raises(EventError, match=r"period|stat|at most"):
        parse_queue_message(message)


def _message(**changes: Any) -> str:
    body = Reevaluation(
        "ep-a", "chat-a", Trigger.SCALE_OUT, "chat-a-scale-out", 0, 10, "Average", "c"
    ).to_body()
    decoded = json.loads(body)
    huge = {k: v for k, v in changes.items() if isinstance(v, int) and abs(v) > 10**4000}
    decoded.update({k: f"<{k}>" for k in huge})
    decoded.update({k: v for k, v in changes.items() if k not in huge})
    text = json.dumps(decoded)
    for key in huge:  # json.dumps cannot write an integer this long: the text can hold one
        text = text.replace(f'"<{key}>"', "9" * 5000)
    return text


statistic = st.sampled_from(["Average", "Sum", "p99", "p99.9", "p100", "tm90", "", "avg"])
anything = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)


@settings(max_examples=100, deadline=2000)
@given(
    period=st.one_of(st.integers(min_value=-5, max_value=100_000), anything),
    stat=st.one_of(statistic, anything),
    trigger=st.sampled_from(list(Trigger)),
)
def test_every_alarm_the_scaler_accepts_makes_a_follow_up_it_accepts(
    period: Any, stat: Any, trigger: Trigger
) -> None:
    event = alarm_event("chat-a", trigger, "ALARM", [13.0])
    event["alarmData"]["configuration"]["metrics"][0]["metricStat"].update(period=period, stat=stat)
    try:
        alarm = parse_alarm_event(event)
    except EventError:
        return
    # What the scaler sends itself for this alarm (scaler.handle_alarm's defaults).
    follow_up = Reevaluation(
        "ep-a",
        alarm.component,
        alarm.trigger,
        alarm.alarm_name,
        0,
        alarm.period_s or evaluation_types.DEFAULT_PERIOD_S,
        alarm.stat or "Average",
        alarm.event_id,
    )
    assert parse_queue_message(follow_up.to_body()) == follow_up


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"alarm_name": "chat-b-scale-out"}, "not component 'chat-a'"),
        ({"alarm_name": "chat-a-b-scale-out"}, "not component 'chat-a'"),
        ({"alarm_name": "chat-a-scale-in"}, "scale_out alarm"),
        ({"alarm_name": "chat-a"}, "not one of the scaler's"),
        ({"attempt": True}, "attempt"),
        ({"attempt": -1}, "attempt"),
        ({"attempt": 10**30}, "at most 20 digits"),
        ({"attempt": 10**7}, "attempt"),
        ({"chain_id": "c" * 2000}, "chain_id"),
        ({"extra": 1}, "unknown fields"),
    ],
)
def test_a_reevaluation_must_be_consistent(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(EventError, match=says):
        parse_queue_message(_message(**changes))


@pytest.mark.parametrize(
    "body",
    [
        '{"kind": "reevaluate", "attempt": ' + "9" * 5000 + "}",
        '{"kind": "reevaluate", "attempt": ' + "9" * 100 + "}",
        "[" * 5000 + "]" * 5000,
        '{"kind": "reevaluate", "x": ' + "[" * 20 + "]" * 20 + "}",
        " " * 100_000,
    ],
)
def test_a_queue_body_is_bounded(body: str) -> None:
    with pytest.raises(EventError, match="SQS message body"):
        parse_queue_message(body)


def test_a_reevaluation_for_one_component_cannot_carry_anothers_alarm(world: World) -> None:
    # chat-b's alarm is in ALARM with a heavy load; chat-a's is not.
    world.set_alarm("chat-b", Trigger.SCALE_OUT, "ALARM")
    world.put_concurrency("chat-b", [30.0, 30.0, 30.0])
    before = world.copies("chat-a")
    forged = _message(alarm_name="chat-b-scale-out", chain_id="")
    out = scaler.handler(sqs_event(forged, "forged-1"), CONTEXT)
    assert out["batchItemFailures"] == [{"itemIdentifier": "forged-1"}]
    assert world.copies("chat-a") == before
    assert world.rows("ep-a") == []


def test_forged_alarm_events_reach_the_handler_as_clear_errors(world: World) -> None:
    base = alarm_event("chat-a", Trigger.SCALE_OUT, "ALARM", [13.0])
    for mutate in (
        lambda e: e["alarmData"]["state"].update(reasonData="[" * 3000 + "]" * 3000),
        lambda e: e["alarmData"]["state"].update(
            reasonData='{"recentDatapoints": [' + "7" * 3990 + "]}"
        ),
        lambda e: e["alarmData"]["configuration"]["metrics"][0]["metricStat"].update(period=True),
        lambda e: e["alarmData"].update(previousState={"value": "x" * 1_000_000}),
        lambda e: e["alarmData"]["state"].update(timestamp="t" * 10_000),
    ):
        event = copy.deepcopy(base)
        mutate(event)
        with pytest.raises(EventError):
            scaler.handler(event, CONTEXT)
    assert world.rows("ep-a") == [] and world.sent == []


def test_error_messages_describe_huge_values_briefly() -> None:
    assert events.show(10**5000).startswith("an integer of")
    assert len(events.show("x" * 10_000)) < 80
    assert contract.alarm_name("chat-a", Trigger.SCALE_OUT) == "chat-a-scale-out"
