"""Recurring load: the seasonal forecast, the floor it raises, and holding through burst gaps."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.control_plane.bursts import (
    burst_probability,
    burst_starts,
    hold_through_gap,
    recent_peak,
)
from lambdas.control_plane.copy_model import CopyModel
from lambdas.control_plane.forecast import (
    DAY_S,
    forecast,
    forecast_floor,
    is_weekend,
    minute_index,
)
from lambdas.control_plane.forecast_plan import plan
from tests.helpers import make_spec

MONDAY = datetime(2026, 11, 2, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC
HOUR = 3600.0


def office_hours(days: int, start: float = MONDAY) -> list[tuple[float, float]]:
    """Per-minute Invocations: weekdays 60 overnight, 600 from 09:00 to 17:00; weekends 120."""
    series = []
    for minute in range(days * 1440):
        t = start + minute * 60.0
        hour = (t % DAY_S) / HOUR
        value = 120.0 if is_weekend(t) else 600.0 if 9 <= hour < 17 else 60.0
        series.append((t, value))
    return series


def per_two_requests_s(per_minute: float) -> int:
    return math.ceil(per_minute / 120)  # one copy per 2 requests/s


TWO_WEEKS = office_hours(14)
AFTER = MONDAY + 14 * DAY_S  # Monday of the third week
DEFAULT_COPY = CopyModel.constant(16, prefill_s=0.34, service_s=1.46)


def test_weekdays_are_known_from_the_day_of_the_week() -> None:
    assert not is_weekend(MONDAY)
    assert is_weekend(MONDAY + 5 * DAY_S)  # Saturday
    assert not is_weekend(MONDAY + 7 * DAY_S - 1, utc_offset_s=HOUR)  # Sunday 23:59 UTC


def test_the_morning_peak_is_predicted_before_it_starts() -> None:
    tuesday_0850 = AFTER + DAY_S + 8 * HOUR + 50 * 60
    assert forecast(TWO_WEEKS, tuesday_0850, 20 * 60) == 600.0
    assert forecast(TWO_WEEKS, tuesday_0850, 5 * 60) == 60.0  # the peak is not yet in reach
    assert forecast(TWO_WEEKS, AFTER + DAY_S + 17.5 * HOUR, 20 * 60) == 60.0


def test_weekends_come_from_weekends_once_a_week_exists() -> None:
    saturday_0850 = MONDAY + 12 * DAY_S + 8 * HOUR + 50 * 60  # second week's Saturday
    one_week = [(t, v) for t, v in TWO_WEEKS if t < MONDAY + 12 * DAY_S]
    assert forecast(one_week, saturday_0850, 20 * 60) == 120.0
    # Only Wednesday to Friday behind it: no weekend to go by, the weekdays predict 600.
    wed_to_fri = [(t, v) for t, v in TWO_WEEKS if MONDAY + 9 * DAY_S <= t < MONDAY + 12 * DAY_S]
    assert forecast(wed_to_fri, saturday_0850, 20 * 60) == 600.0


def test_one_odd_day_does_not_move_the_median() -> None:
    spiked = [
        (t, 5000.0 if AFTER - DAY_S + 3 * HOUR <= t < AFTER - DAY_S + 4 * HOUR else v)
        for t, v in TWO_WEEKS
    ]  # last Sunday 03:00-04:00
    assert forecast(spiked, AFTER + 2 * HOUR + 50 * 60, 20 * 60) == 60.0


def test_no_history_no_forecast() -> None:
    assert forecast([], AFTER, 600) is None
    assert forecast(TWO_WEEKS, AFTER + 30 * DAY_S, 600) is None  # all of it too old
    # A mapping kept by the caller predicts the same as the series it came from
    index = minute_index(TWO_WEEKS)
    assert forecast(index, AFTER + DAY_S + 8.9 * HOUR, 1200) == 600.0


def test_the_floor_rises_ahead_of_the_peak_and_never_falls() -> None:
    def floor(at: float, held: int, history: list[tuple[float, float]] = TWO_WEEKS) -> int:
        return forecast_floor(
            history,
            at,
            ready_s=258,
            interval_s=300,
            copies_for=per_two_requests_s,
            held_copies=held,
            max_copies=8,
        )

    tuesday = AFTER + DAY_S
    # At 08:55 the window (258 + 300 s) reaches 09:04: 600/min is 10 req/s, 5 copies, which
    # serve from 08:59:18.
    assert floor(tuesday + 8 * HOUR + 55 * 60, held=1) == 5
    # At 08:50 it ends at 08:59:18: not yet, the 08:55 run is still in time.
    assert floor(tuesday + 8 * HOUR + 50 * 60, held=1) == 1
    assert floor(tuesday + 17.5 * HOUR, held=3) == 3  # the alarms' copies stay
    assert floor(tuesday + 8.9 * HOUR, held=7) == 7
    assert floor(tuesday + 8.9 * HOUR, held=2, history=[]) == 2  # no history, no action
    heavy = [(t, v * 10) for t, v in TWO_WEEKS]
    assert floor(tuesday + 8.9 * HOUR, held=1, history=heavy) == 8  # capped at max_copies


@pytest.mark.parametrize(
    ("history", "horizon", "message"),
    [
        ([(MONDAY, math.nan)], 60, r"history\[0\] value must be a finite number"),
        ([(MONDAY, -1.0)], 60, r"history\[0\] value must be at least 0"),
        ([], 2 * DAY_S, "horizon_s must be at most one day"),
    ],
)
def test_bad_history_is_refused(history: list, horizon: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forecast(history, AFTER, horizon)


def test_bursts_are_found_where_the_series_crosses_up() -> None:
    series = [(60.0 * i, v) for i, v in enumerate([2, 20, 25, 3, 2, 22])]
    assert burst_starts(series, 10.0) == [60.0, 300.0]
    assert burst_starts([(0.0, 30.0), (60.0, 30.0)], 10.0) == []
    # Integer counts are numbers too; a pair that is not finite is named
    assert burst_starts([(0, 2), (60, 20)], 10.0) == [60.0]
    with pytest.raises(ValueError, match=r"series\[1\] timestamp must be a finite number"):
        burst_starts([(0.0, 2.0), (math.inf, 20.0)], 10.0)
    with pytest.raises(ValueError, match=r"series\[0\] value must be a number, got '2'"):
        burst_starts([(0.0, "2")], 10.0)  # type: ignore[list-item]


def per_four_requests_s(per_minute: float) -> int:
    return math.ceil(per_minute / 240)  # one copy per 4 requests/s


def test_the_recent_peak_is_kept_for_the_window_then_let_go() -> None:
    # The bursts module's worked example: minute 2's 1500 per minute needs 7 copies.
    series = [(60.0 * i, v) for i, v in enumerate([120, 1200, 1500, 150])]
    assert recent_peak(series, 600, 1200, per_four_requests_s) == 7
    assert recent_peak(series, 1350, 1200, per_four_requests_s) == 1  # minute 2 has left
    assert recent_peak(series, 5000, 1200, per_four_requests_s) == 0  # nothing in the window
    assert recent_peak(series, 60, 1200, per_four_requests_s) == 5  # later minutes not yet seen
    with pytest.raises(ValueError, match="series\\[1\\] value must be"):
        recent_peak([(0.0, 1.0), (60.0, math.nan)], 120, 1200, per_four_requests_s)
    with pytest.raises(ValueError, match="window_s must be"):
        recent_peak(series, 600, -1, per_four_requests_s)


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.floats(0, 1e4), st.floats(0, 1e4)), max_size=30),
    st.floats(0, 2e4),
    st.floats(0, 5e3),
    st.floats(0, 5e3),
)
def test_a_longer_window_never_holds_less_and_only_its_minutes_count(
    series: list[tuple[float, float]], now: float, short: float, extra: float
) -> None:
    held = recent_peak(series, now, short, per_four_requests_s)
    assert recent_peak(series, now, short + extra, per_four_requests_s) >= held
    inside = [v for t, v in series if now - short <= t <= now]
    assert held == max((per_four_requests_s(v) for v in inside), default=0)


def test_burst_chance_from_the_gaps() -> None:
    starts = [0.0, 500.0, 1100.0, 1800.0, 2600.0]  # gaps 500, 600, 700, 800
    assert burst_probability(starts, 2600 + 400, 258) == 0.5
    assert burst_probability(starts, 2600 + 300, 258) == 0.25
    assert burst_probability(starts, 2600 + 900, 258) == 0.0  # longer than any gap seen
    assert burst_probability(starts[:3], 1500, 258) is None  # two gaps: no pattern yet


def test_capacity_is_held_only_when_a_cold_start_could_not_bring_it_back() -> None:
    every_600 = [0.0, 600.0, 1200.0, 1800.0]
    held = [e for e in range(0, 700, 10) if hold_through_gap(every_600, 1800 + e, 258)]
    assert (held[0], held[-1]) == (350, 590)  # from 600 - 258 = 342 s into the lull
    assert not hold_through_gap([0.0, 600.0], 1000, 258)  # one gap: no pattern
    # Certainty (1.0, which the fleet file allows) holds only where every gap seen ended in time.
    assert hold_through_gap(every_600, 1800 + 400, 258, min_probability=1.0)
    with pytest.raises(ValueError, match="min_probability must be greater than 0 and at most 1"):
        hold_through_gap(every_600, 2000, 258, min_probability=0.0)
    with pytest.raises(ValueError, match="min_probability must be greater than 0 and at most 1"):
        hold_through_gap(every_600, 2000, 258, min_probability=1.5)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 14 * DAY_S), st.floats(0, 1e5)), max_size=200),
    st.floats(0, 20 * DAY_S),
    st.floats(0, 3600),
    st.integers(0, 20),
    st.integers(0, 20),
)
def test_floor_invariants(
    history: list[tuple[float, float]], now: float, ready: float, held: int, cap: int
) -> None:
    got = forecast_floor(
        history,
        now,
        ready_s=ready,
        interval_s=300,
        copies_for=per_two_requests_s,
        held_copies=held,
        max_copies=cap,
    )
    assert got >= held  # never removes what the alarms hold
    assert got <= max(held, cap)  # never raises above max
    predicted = forecast(history, now, ready + 300)
    if predicted is None:
        assert got == held
    else:
        assert 0 <= predicted <= max(v for _, v in history)


@settings(max_examples=200)
@given(st.lists(st.floats(0, 1e5), max_size=20), st.floats(0, 2e5), st.floats(0, 3600.0))
def test_burst_chance_is_a_probability(starts: list[float], now: float, ahead: float) -> None:
    chance = burst_probability(starts, now, ahead)
    assert chance is None or 0.0 <= chance <= 1.0
    if len([s for s in starts if s <= now]) < 4:
        assert chance is None
        assert not hold_through_gap(starts, now, ahead)


def test_two_days_predict_their_mean() -> None:
    # Two previous days at 100 and 300 for the minute: the median of two is their mean.
    history = [(AFTER - DAY_S, 100.0), (AFTER - 2 * DAY_S, 300.0)]
    assert forecast(history, AFTER, 0) == 200.0


def test_a_run_plans_the_larger_of_the_forecast_and_the_recent_peak() -> None:
    spec = make_spec(
        "ep", "chat", copy_model=DEFAULT_COPY, forecast_interval_s=300, hold_recent_s=1200
    )
    now = AFTER + 10 * HOUR  # Monday 10:00 of the third week: office hours, 600 per minute
    needed = per_two_requests_s
    # A burst of 1500 per minute 5 minutes ago: the sizing given here (a copy per 2 requests/s)
    # needs 13 for it, capped at max_copies 8; the forecast's 600 per minute needs 5.
    recent = [(now - 300.0, 1500.0), (now - 240.0, 600.0)]
    planned = plan(TWO_WEEKS, recent, now, spec, ready_s=258, needed=needed)
    assert planned is not None
    assert (planned.held, planned.floor) == (8, 8)
    assert planned.predicted == 600.0
    # 25 minutes later the burst has left the 20-minute window: the forecast's 5 remain.
    later = plan(TWO_WEEKS, recent, now + 1500, spec, ready_s=258, needed=needed)
    assert later is not None and (later.held, later.floor) == (0, 5)
    # Burst hold off: only the forecast; no history and no recent minute: nothing to do.
    off = replace(spec, hold_recent_s=None)
    forecast_only = plan(TWO_WEEKS, recent, now, off, ready_s=258, needed=needed)
    assert forecast_only is not None and (forecast_only.held, forecast_only.floor) == (0, 5)
    assert plan([], [], now, spec, ready_s=258, needed=needed) is None
    # The recent peak alone (first day: no previous days) still makes a floor.
    first_day = plan([], recent, now, spec, ready_s=258, needed=needed)
    assert first_day is not None and (first_day.predicted, first_day.floor) == (None, 8)
