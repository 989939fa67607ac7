"""CloudWatch semantics the policies depend on: M of N, publishing delay, transitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.alarms import TREAT_MISSING_DATA, alarm_plans
from config.fleet import DEFAULT_FLEET, load_fleet
from sim.cloudwatch import (
    COMPARISONS,
    STATISTICS,
    TREAT_MISSING,
    Alarm,
    AlarmSpec,
    MetricSeries,
    SeriesAlarm,
    State,
    alarm_spec,
    evaluate,
)

TWO_OF_THREE = AlarmSpec("out", 8.0, "GreaterThanThreshold", 10, 3, 2)
NOT_BREACHING = AlarmSpec(
    "out", 8.0, "GreaterThanThreshold", 10, 3, 2, treat_missing_data="notBreaching"
)
BREACHING = AlarmSpec("out", 8.0, "GreaterThanThreshold", 10, 3, 2, treat_missing_data="breaching")


@pytest.mark.parametrize(
    ("datapoints", "current", "expected"),
    [
        ([9.0, None, 10.0], State.OK, State.ALARM),  # two breaches of three
        ([9.0, 7.0, None], State.OK, State.OK),  # undecided: stays
        ([9.0, 7.0, None], State.ALARM, State.ALARM),  # undecided: stays
        ([7.0, 6.0, None], State.ALARM, State.OK),  # two clear: ALARM impossible
        ([None, None, None], State.ALARM, State.INSUFFICIENT_DATA),
        ([8.0, 8.0, 8.0], State.OK, State.OK),  # equal is not greater
    ],
)
def test_m_of_n_evaluation(datapoints: list[float | None], current: State, expected: State) -> None:
    assert evaluate(TWO_OF_THREE, datapoints, current) is expected


@pytest.mark.parametrize(
    ("datapoints", "current", "expected"),
    [
        ([9.0, 7.0, None], State.ALARM, State.OK),  # the gap clears: one breach of three
        ([9.0, None, 10.0], State.OK, State.ALARM),  # two real breaches still alarm
        ([None, None, None], State.ALARM, State.OK),  # no data is good data, not INSUFFICIENT_DATA
        ([None, None, 9.0], State.OK, State.OK),
    ],
)
def test_not_breaching_counts_a_gap_as_a_good_datapoint(
    datapoints: list[float | None], current: State, expected: State
) -> None:
    assert evaluate(NOT_BREACHING, datapoints, current) is expected


@pytest.mark.parametrize(
    ("datapoints", "current", "expected"),
    [
        ([9.0, 7.0, None], State.OK, State.ALARM),  # the gap breaches: two of three
        ([None, None, None], State.OK, State.ALARM),
        ([7.0, 6.0, None], State.ALARM, State.OK),
    ],
)
def test_breaching_counts_a_gap_as_a_bad_datapoint(
    datapoints: list[float | None], current: State, expected: State
) -> None:
    assert evaluate(BREACHING, datapoints, current) is expected


def test_the_fleets_alarms_carry_their_treat_missing_data_to_the_evaluator() -> None:
    model = load_fleet(DEFAULT_FLEET).endpoints[0].models[0]
    specs = [alarm_spec(p) for p in alarm_plans(model)]
    assert {s.treat_missing_data for s in specs} == {TREAT_MISSING_DATA} == {"notBreaching"}
    # A scale-in alarm whose copies emit nothing (none serving) goes OK, not INSUFFICIENT_DATA.
    scale_in = next(s for s in specs if s.comparison == "LessThanThreshold")
    assert (
        evaluate(scale_in, [None] * scale_in.evaluation_periods, State.INSUFFICIENT_DATA)
        is State.OK
    )


def test_a_datapoint_is_invisible_until_published() -> None:
    series = MetricSeries("m", 10, publish_delay_s=30)
    for value in (1.0, 2.0, 3.0):
        series.record(value)
    # The first period [0, 10) is readable at 10 + 30 = 40 s, not before.
    assert series.window(39.9, 10, 1) == [None]
    assert series.window(40.0, 10, 1) == [1.0]
    assert series.window(60.0, 10, 3) == [1.0, 2.0, 3.0]


def test_a_60_s_alarm_period_averages_six_10_s_datapoints_once_all_are_published() -> None:
    series = MetricSeries("m", 10, publish_delay_s=0)
    for value in (1, 2, 3, 4, 5, 6, 7):
        series.record(float(value))
    assert series.window(50.0, 60, 1) == [None]
    assert series.window(60.0, 60, 1) == [3.5]
    assert series.window(70.0, 60, 1, "Maximum") == [6.0]


def test_transitions_are_reported_once_while_the_state_persists() -> None:
    # Lambda actions run on transitions; AAS keeps acting while in_alarm holds.
    alarm = Alarm(TWO_OF_THREE)
    assert alarm.update(10, [9.0, 9.0, 9.0]) is State.ALARM
    assert alarm.update(20, [9.0, 9.0, 9.0]) is None
    assert alarm.in_alarm
    assert alarm.update(30, [1.0, 1.0, 1.0]) is State.OK
    assert not alarm.in_alarm


def test_invalid_alarms_are_rejected_with_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="period 45 s; allowed: 10, 20, 30 or a multiple of 60"):
        AlarmSpec("x", 1.0, "GreaterThanThreshold", 45, 1, 1)
    with pytest.raises(ValueError, match="3 datapoints to alarm out of 2"):
        AlarmSpec("x", 1.0, "GreaterThanThreshold", 10, 2, 3)
    with pytest.raises(ValueError, match="comparison 'Above'"):
        AlarmSpec("x", 1.0, "Above", 10, 1, 1)
    with pytest.raises(
        ValueError, match="treat_missing_data 'ignore'; allowed: missing, notBreaching, breaching"
    ):
        AlarmSpec("x", 1.0, "GreaterThanThreshold", 10, 1, 1, treat_missing_data="ignore")


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.none() | st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, 7.5]), max_size=80),
    period_s=st.sampled_from([10, 20, 60]),
    n=st.integers(1, 12),
    m=st.integers(1, 12),
    comparison=st.sampled_from(list(COMPARISONS)),
    statistic=st.sampled_from(STATISTICS),
    missing=st.sampled_from(TREAT_MISSING),
    threshold=st.sampled_from([0.0, 2.0, 2.5, 3.0]),
)
def test_an_alarm_on_a_series_evaluates_as_its_window_does(
    values: list[float | None],
    period_s: int,
    n: int,
    m: int,
    comparison: str,
    statistic: str,
    missing: str,
    threshold: float,
) -> None:
    # SeriesAlarm counts as datapoints arrive; every evaluation must match evaluating the
    # window it reads, state and transition alike.
    spec = AlarmSpec("a", threshold, comparison, period_s, n, min(m, n), statistic, missing)
    series = MetricSeries("m", 10, publish_delay_s=30)
    on_series, on_window = SeriesAlarm(spec, series), Alarm(spec)
    for tick, value in enumerate(values, start=1):
        series.record(value)
        now = tick * 10.0
        if not on_series.due(now):
            continue
        window = series.window(now, period_s, n, statistic)
        assert on_series.window(now) == window
        assert on_series.update_at(now) is on_window.update(now, window)
        assert on_series.state is on_window.state
