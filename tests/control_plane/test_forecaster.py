"""The forecaster against moto: a week of a daily peak in CloudWatch, and the copies are there
before the peak comes back; no history, a failing metrics read or table, another endpoint's
event: nothing changes."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError

from lambdas.control_plane import aws, contract, forecast_history, forecaster, settings
from lambdas.control_plane.copy_model import CopyModel
from lambdas.control_plane.events import EventError, ForeignEndpoint
from tests.helpers import CONTEXT, READY_S, World, emf_metrics, make_spec, use_endpoint

if TYPE_CHECKING:
    from types_boto3_cloudwatch import CloudWatchClient

DAY_S = 86400
INTERVAL_S = 300
# The default fleet's fixed token rates: 0.34 s to the first token, 1.46 s in service, 16 at
# once. 25 requests/s (1500 a minute) need 3 such copies for 2 s at 0.99; 2 a second, 1.
COPY = CopyModel.constant(16, 0.34, 1.46)
QUIET_PER_MIN, PEAK_PER_MIN, PEAK_COPIES = 120.0, 1500.0, 3


def forecast_event(endpoint: str = "ep-a") -> dict[str, Any]:
    return {"source": contract.FORECAST_SOURCE, "endpoint": endpoint}


def forecasting(
    monkeypatch: pytest.MonkeyPatch, world: World, endpoint: str = "ep-a", **overrides: Any
) -> None:
    """The handlers' environment for ``endpoint`` with forecasting on for its components
    (``overrides``: more spec fields)."""
    use_endpoint(monkeypatch, world, endpoint)
    components = json.loads(os.environ[contract.ENV_COMPONENTS])
    for name, entry in components.items():
        spec = make_spec(
            endpoint,
            name,
            min_copies=0 if name.startswith("zero") else 1,
            copy_model=COPY,
            forecast_interval_s=INTERVAL_S,
            forecast_history_days=14,
            **overrides,
        )
        entry["spec"] = spec.to_dict()
    monkeypatch.setenv(contract.ENV_COMPONENTS, json.dumps(components))
    settings.settings.cache_clear()


def put_daily_peak(world: World, component: str, peak_at: float, days: int = 7) -> None:
    """``days`` previous days of Invocations per minute around ``peak_at``'s time of day:
    ``QUIET_PER_MIN`` for the hour before, ``PEAK_PER_MIN`` for the 20 minutes from it."""
    data = []
    for k in range(1, days + 1):
        start = peak_at - k * DAY_S
        for minute in range(-60, 20):
            data.append(
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "InferenceComponentName", "Value": component}],
                    "Timestamp": datetime.fromtimestamp(start + minute * 60, UTC),
                    "Value": PEAK_PER_MIN if minute >= 0 else QUIET_PER_MIN,
                    "Unit": "Count",
                }
            )
    for first in range(0, len(data), 500):
        world.cloudwatch.put_metric_data(
            Namespace="AWS/SageMaker", MetricData=data[first : first + 500]
        )


def run(world: World, endpoint: str = "ep-a") -> dict[str, Any]:
    return forecaster.handler(forecast_event(endpoint), CONTEXT)


def outcome(result: dict[str, Any], component: str) -> dict[str, Any]:
    [found] = [o for o in result["outcomes"] if o["component"] == component]
    return found


def floor_of(world: World, component: str, endpoint: str = "ep-a") -> int | None:
    row = world.row(endpoint, f"COMPONENT#{component}")
    return (
        int(row["forecast_floor_copies"]["N"]) if row and "forecast_floor_copies" in row else None
    )


def aligned_peak(world: World, seconds_ahead: float) -> float:
    """A minute boundary about ``seconds_ahead`` from now."""
    return (world.clock() + seconds_ahead) // 60 * 60


# --- the daily peak --------------------------------------------------------------------------


def test_copies_are_raised_ahead_of_a_daily_peak_by_the_ready_time(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    forecasting(monkeypatch, world)
    # No IMAGE# row: a new instance pulls the image, 525 s; the forecaster runs every 300 s.
    horizon = READY_S["uncached"] + INTERVAL_S
    peak = aligned_peak(world, horizon + 180)
    put_daily_peak(world, "chat-a", peak)

    # 16 minutes before the peak: it is beyond ready time + interval, so nothing is raised yet.
    early = run(world)
    assert outcome(early, "chat-a")["action"] == "held"
    assert floor_of(world, "chat-a") == 1
    assert world.copies("chat-a")[0] == 1

    # One interval later the peak is within the horizon: 3 copies, asked for now.
    world.clock.advance(INTERVAL_S)
    raised = outcome(run(world), "chat-a")
    assert (raised["action"], raised["reason"]) == ("scaled", "Forecast")
    assert (raised["desired_copies"], raised["target_copies"]) == (1, PEAK_COPIES)
    assert world.copies("chat-a")[0] == PEAK_COPIES
    assert floor_of(world, "chat-a") == PEAK_COPIES
    # The raise reports the phase the scaler reports too: decision to desired count set.
    phases = [
        m
        for m in emf_metrics(capsys.readouterr().out)
        if m["name"] == "DecisionToDesiredSeconds"
        and m["dimensions"]["InferenceComponentName"] == "chat-a"
    ]
    assert len(phases) == 1 and min(phases[0]["value"]) >= 0
    asked_at = world.clock()
    assert peak - asked_at >= READY_S["uncached"], "they serve by the time the peak starts"

    # They serve by the peak (moto's copies arrive by the cold-start model's time) ...
    world.clock.advance(peak - asked_at)
    assert world.copies("chat-a") == (PEAK_COPIES, PEAK_COPIES)
    # ... and the scale-out is recorded as the scaler records one: cooldown, pending, history.
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and row["scaler_copies"]["N"] == str(PEAK_COPIES)
    assert row["pending_target"]["N"] == str(PEAK_COPIES)
    decisions = [
        r
        for r in world.rows("ep-a")
        if r["sk"]["S"].startswith("DECISION#") and r["sk"]["S"].endswith("chat-a")
    ]
    assert [d["reason"]["S"] for d in decisions] == ["Forecast"]
    # The other endpoint and the component without history are untouched.
    assert outcome(early, "zero-a")["reason"] == "NoHistory"
    assert world.copies("chat-b")[0] == 1 and floor_of(world, "chat-b", "ep-b") is None


def test_a_forecast_never_lowers_the_copies_the_alarms_hold(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    forecasting(monkeypatch, world)
    world.set_copies("chat-a", 6)
    peak = aligned_peak(world, 120)
    put_daily_peak(world, "chat-a", peak)
    result = outcome(run(world), "chat-a")
    # The forecast asks for 3; the alarms asked for 6: 6 stay, the floor says 3.
    assert (result["action"], result["reason"]) == ("held", "Covered")
    assert world.copies("chat-a")[0] == 6
    assert floor_of(world, "chat-a") == PEAK_COPIES
    floors = [m for m in emf_metrics(capsys.readouterr().out) if m["name"] == "ForecastFloor"]
    assert [(m["dimensions"]["InferenceComponentName"], m["value"]) for m in floors] == [
        ("chat-a", [float(PEAK_COPIES)])
    ]


# --- fail safe -------------------------------------------------------------------------------


def test_no_history_changes_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    forecasting(monkeypatch, world)
    result = run(world)
    assert {o["reason"] for o in result["outcomes"]} == {"NoHistory"}
    assert world.copies("chat-a")[0] == 1
    assert floor_of(world, "chat-a") is None


class _Throttled:
    """A CloudWatch client whose every GetMetricData is throttled (after the SDK's retries)."""

    def get_metric_data(self, **_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "GetMetricData"
        )


def test_a_failing_metrics_read_removes_nothing_and_is_counted(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    forecasting(monkeypatch, world)
    world.set_copies("chat-a", 4)
    put_daily_peak(world, "chat-a", aligned_peak(world, 120))
    monkeypatch.setattr(aws, "cloudwatch", _Throttled)
    result = run(world)  # the schedule's invocation succeeds: nothing raised
    assert {(o["action"], o["reason"]) for o in result["outcomes"]} == {
        ("error", "MetricsUnavailable")
    }
    assert world.copies("chat-a")[0] == 4
    assert floor_of(world, "chat-a") is None
    errors = [m for m in emf_metrics(capsys.readouterr().out) if m["name"] == "ScalingErrors"]
    assert {m["dimensions"]["InferenceComponentName"] for m in errors} == {"chat-a", "zero-a"}


def test_a_missing_table_removes_nothing_and_is_counted(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    forecasting(monkeypatch, world)
    monkeypatch.setenv(contract.ENV_TABLE_NAME, "no-such-table")
    settings.settings.cache_clear()
    world.set_copies("chat-a", 4)
    put_daily_peak(world, "chat-a", aligned_peak(world, 120))
    result = run(world)
    assert {o["reason"] for o in result["outcomes"]} == {"StateUnavailable"}
    assert world.copies("chat-a")[0] == 4
    assert any(m["name"] == "ScalingErrors" for m in emf_metrics(capsys.readouterr().out))


def test_a_refused_update_is_counted_and_the_recorded_intent_put_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    forecasting(monkeypatch, world)
    put_daily_peak(world, "chat-a", aligned_peak(world, 120))
    assert world.control is not None
    world.control.inject_fault(
        "UpdateInferenceComponentRuntimeConfig", "chat-a", "ResourceLimitExceeded", "quota"
    )
    result = outcome(run(world), "chat-a")
    assert (result["action"], result["reason"]) == ("held", "ResourceLimitExceeded")
    assert world.copies("chat-a")[0] == 1
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None and "pending_target" not in row and "scaler_copies" not in row
    assert int(row["forecast_floor_copies"]["N"]) == PEAK_COPIES  # the floor stays for scale-in
    assert world.row_keys("ep-a", "ERROR#")


# --- events ----------------------------------------------------------------------------------


def test_another_endpoints_event_is_refused_before_anything_is_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    forecasting(monkeypatch, world)
    put_daily_peak(world, "chat-b", aligned_peak(world, 120))
    with pytest.raises(ForeignEndpoint):
        run(world, "ep-b")
    with pytest.raises(ForeignEndpoint):
        run(world, "ep")  # a prefix of ep-a is another endpoint too
    assert world.copies("chat-b")[0] == 1 and world.copies("chat-a")[0] == 1
    assert floor_of(world, "chat-a") is None and floor_of(world, "chat-b", "ep-b") is None


@pytest.mark.parametrize(
    ("event", "says"),
    [
        ({"source": "aws.events", "endpoint": "ep-a"}, "source"),
        ({"source": contract.FORECAST_SOURCE}, "accepts"),
        ({"source": contract.FORECAST_SOURCE, "endpoint": "ep-a", "extra": 1}, "accepts"),
        ({"source": contract.FORECAST_SOURCE, "endpoint": 7}, "endpoint must be"),
        ({"source": contract.FORECAST_SOURCE, "endpoint": "x" * 300}, "endpoint must be"),
        (["ep-a"], "accepts"),
    ],
)
def test_malformed_events_are_refused_with_what_is_allowed(
    world: World, monkeypatch: pytest.MonkeyPatch, event: Any, says: str
) -> None:
    forecasting(monkeypatch, world)
    with pytest.raises(EventError, match=says):
        forecaster.handler(event, CONTEXT)


# --- the history read ------------------------------------------------------------------------


class _Paged:
    """GetMetricData answering in two pages per window, as CloudWatch may."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_metric_data(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        start = kwargs["StartTime"]
        page = 1 if "NextToken" in kwargs else 0
        result = {"Id": "c0", "Timestamps": [start.replace(second=0)], "Values": [10.0 + page]}
        return {"MetricDataResults": [result], **({} if page else {"NextToken": "more"})}


def test_history_is_read_per_previous_day_following_next_token() -> None:
    client = _Paged()
    now = datetime(2026, 1, 6, 9, 5, 30, tzinfo=UTC).timestamp()
    history = forecast_history.read_history(
        cast("CloudWatchClient", client), ["chat"], now, days=3, horizon_s=560
    )
    windows = [(c["StartTime"], c["EndTime"]) for c in client.calls if "NextToken" not in c]
    assert [(s.isoformat(), e.isoformat()) for s, e in windows] == [
        ("2026-01-06T03:05:00+00:00", "2026-01-06T09:05:30+00:00"),  # the last 6 hours
        ("2026-01-05T09:05:00+00:00", "2026-01-05T09:15:00+00:00"),
        ("2026-01-04T09:05:00+00:00", "2026-01-04T09:15:00+00:00"),
        ("2026-01-03T09:05:00+00:00", "2026-01-03T09:15:00+00:00"),
    ]
    assert len(client.calls) == 8  # every window's second page was fetched
    assert [v for _, v in history["chat"]] == [10.0, 11.0] * 4


@pytest.mark.parametrize("days", [0, 16])
def test_history_days_beyond_what_cloudwatch_keeps_are_refused(days: int) -> None:
    with pytest.raises(ValueError, match="1 to 15"):
        forecast_history.windows(0.0, days, 60)


def test_recent_bursts_are_recorded_for_scale_in_to_hold_through_lulls(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    forecasting(monkeypatch, world)
    # The last two hours: a 3-minute burst every 20 minutes, quiet between; no earlier days.
    now = world.clock() // 60 * 60
    data = [
        {
            "MetricName": "Invocations",
            "Dimensions": [{"Name": "InferenceComponentName", "Value": "chat-a"}],
            "Timestamp": datetime.fromtimestamp(now - 7200 + 60 * i, UTC),
            "Value": PEAK_PER_MIN if i % 20 < 3 and i >= 20 else QUIET_PER_MIN,
        }
        for i in range(120)
    ]
    world.cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)
    result = outcome(run(world), "chat-a")
    assert (result["action"], result["reason"], result["bursts"]) == ("held", "NoHistory", 5)
    row = world.row("ep-a", "COMPONENT#chat-a")
    assert row is not None
    starts = [float(s) for s in row["burst_starts"]["S"].split()]
    assert [s - starts[0] for s in starts] == [0.0, 1200.0, 2400.0, 3600.0, 4800.0]
    assert int(row["forecast_floor_copies"]["N"]) == 1  # nothing predicted: min_copies
    assert world.copies("chat-a")[0] == 1


def put_minutes(world: World, component: str, first: float, values: list[float]) -> None:
    """``Invocations`` per minute from ``first`` on, one value a minute."""
    data = [
        {
            "MetricName": "Invocations",
            "Dimensions": [{"Name": "InferenceComponentName", "Value": component}],
            "Timestamp": datetime.fromtimestamp(first + 60 * i, UTC),
            "Value": value,
        }
        for i, value in enumerate(values)
    ]
    world.cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)


def test_a_recent_burst_keeps_its_copies_for_the_instance_release_cooldown(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Burst hold on, the endpoint's instances released 20 minutes after they fall idle.
    forecasting(monkeypatch, world, hold_recent_s=1200)
    now = world.clock() // 60 * 60
    # The last 40 minutes: quiet, but 25 requests/s from 10 to 8 minutes ago; no earlier days.
    minutes = [PEAK_PER_MIN if 30 <= i < 33 else QUIET_PER_MIN for i in range(40)]
    put_minutes(world, "chat-a", now - 2400, minutes)
    # Scale-out asks for 5 copies at 25 requests/s (25 x 1.46 s / 8 per copy), more than the
    # SLO's 3: those 5 are held, and brought back here, where the alarms never added them.
    held = outcome(run(world), "chat-a")
    assert (held["action"], held["reason"], held["held"]) == ("scaled", "Forecast", 5)
    assert floor_of(world, "chat-a") == 5 and world.copies("chat-a")[0] == 5

    # 15 minutes later the burst is 23 minutes old, past the cooldown: the floor lets them go.
    world.clock.advance(900)
    put_minutes(world, "chat-a", now, [QUIET_PER_MIN] * 15)
    later = outcome(run(world), "chat-a")
    assert (later["action"], later["held"]) == ("held", 1)
    assert floor_of(world, "chat-a") == 1
    assert world.copies("chat-a")[0] == 5  # the forecaster never removes: scale-in will


def test_a_busy_component_keeps_its_count_until_the_next_run(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    forecasting(monkeypatch, world)
    put_daily_peak(world, "chat-a", aligned_peak(world, 120))
    # An update under way (2 copies asked for, not yet serving): SageMaker would refuse another.
    world.sagemaker.update_inference_component_runtime_config(
        InferenceComponentName="chat-a", DesiredRuntimeConfig={"CopyCount": 2}
    )
    assert world.status("chat-a") != "InService"
    busy = outcome(run(world), "chat-a")
    assert (busy["action"], busy["reason"]) == ("held", "ComponentBusy")
    assert world.copies("chat-a")[0] == 2
    assert floor_of(world, "chat-a") == PEAK_COPIES
    # The next run, once the update is done, raises it.
    world.clock.advance(INTERVAL_S)
    world.clock.advance(READY_S["uncached"])
    assert world.status("chat-a") == "InService"
    later = outcome(run(world), "chat-a")
    assert (later["action"], later["desired_copies"], later["target_copies"]) == (
        "scaled",
        2,
        PEAK_COPIES,
    )
