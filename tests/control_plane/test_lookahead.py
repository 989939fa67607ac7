"""Lookahead: the window's trend carried over the predicted ready time, and learnt ready times."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.control_plane.lookahead import predicted_ready_s, projected_demand, trend_per_s

NOW = 1_000_000.0
WEEK = 7 * 86400.0


def test_trend_is_the_least_squares_slope() -> None:
    assert trend_per_s([8.0, 10.0, 12.0], 10.0) == pytest.approx(0.2)
    # A noisy window: the line through 8, 13, 11, 16 rises 2.2 per 10 s.
    assert trend_per_s([8.0, 13.0, 11.0, 16.0], 10.0) == pytest.approx(0.22)
    assert trend_per_s([5.0], 10.0) == 0.0


def test_a_rising_window_is_carried_over_the_ready_time() -> None:
    # Given 8, 10, 12 per copy at 10 s: the line ends at 12 and rises 0.2/s
    # When the new copies take a free slot (30 s): 12 + 6
    assert projected_demand([8.0, 10.0, 12.0], 10.0, 30.0) == pytest.approx(18.0)
    # When they need a cached new instance (258 s): 12 + 51.6, capped at twice the latest
    assert projected_demand([8.0, 10.0, 12.0], 10.0, 258.0) == pytest.approx(24.0)
    assert projected_demand([8.0, 10.0, 12.0], 10.0, 258.0, max_growth=6.0) == pytest.approx(63.6)


def test_the_line_not_the_last_point_is_projected() -> None:
    # 8, 16, 12: slope 0.2/s, the line ends at 14 (above the latest 12): 14 + 2 over 10 s
    assert projected_demand([8.0, 16.0, 12.0], 10.0, 10.0) == pytest.approx(16.0)


def test_falling_or_flat_demand_keeps_the_latest_value() -> None:
    assert projected_demand([12.0, 10.0, 8.0], 10.0, 258.0) == 8.0
    assert projected_demand([9.0], 10.0, 258.0) == 9.0
    assert projected_demand([0.0, 0.0], 10.0, 258.0) == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([], 10.0, 30.0), "at least one value"),
        (([1.0, math.nan], 10.0, 30.0), "datapoint 1 must be a finite number"),
        (([-1.0], 10.0, 30.0), "datapoint 0 must be at least 0"),
        (([1.0], 0.0, 30.0), "period_s must be greater than 0"),
        (([1.0], 10.0, -5.0), "horizon_s must be at least 0"),
    ],
)
def test_bad_windows_are_refused(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        projected_demand(*args)


def test_ready_time_learns_from_recent_timings() -> None:
    # Prior 258 s (weight 2), 300 s just now (1), 280 s a week ago (0.5):
    # (516 + 300 + 140) / 3.5
    got = predicted_ready_s([(NOW, 300.0), (NOW - WEEK, 280.0)], 258.0, NOW)
    assert got == pytest.approx(273.14, abs=0.01)
    assert predicted_ready_s([], 258.0, NOW) == 258.0
    # Ten fresh 320 s timings outweigh the prior: (516 + 3200) / 12
    assert predicted_ready_s([(NOW, 320.0)] * 10, 258.0, NOW) == pytest.approx(309.67, abs=0.01)
    # A year-old timing hardly counts
    assert predicted_ready_s([(NOW - 52 * WEEK, 900.0)], 258.0, NOW) == pytest.approx(258.0, 1e-6)
    # A timing stamped in the future (clock skew) counts as fresh
    assert predicted_ready_s([(NOW + 60, 300.0)], 258.0, NOW) == pytest.approx(272.0)


def test_bad_timings_are_refused() -> None:
    with pytest.raises(ValueError, match=r"observed\[0\] seconds must be at least 0"):
        predicted_ready_s([(NOW, -3.0)], 258.0, NOW)
    with pytest.raises(ValueError, match="prior_s must be a finite number"):
        predicted_ready_s([], math.nan, NOW)


windows = st.lists(st.floats(0.0, 1000.0), min_size=1, max_size=12)


@settings(max_examples=200)
@given(windows, st.floats(1.0, 60.0), st.floats(0.0, 1200.0), st.floats(1.0, 5.0))
def test_projection_is_a_bounded_step(
    values: list[float], period: float, horizon: float, growth: float
) -> None:
    got = projected_demand(values, period, horizon, max_growth=growth)
    assert values[-1] <= got <= values[-1] * growth * (1 + 1e-12)


@settings(max_examples=200)
@given(windows, st.floats(0.0, 10.0), st.floats(0.0, 10.0), st.floats(0.0, 1200.0))
def test_a_steeper_trend_never_projects_less(
    values: list[float], a: float, b: float, horizon: float
) -> None:
    low, high = sorted((a, b))

    def tilted(slope: float) -> list[float]:
        return [v + slope * i for i, v in enumerate(values)]

    less = projected_demand(tilted(low), 10.0, horizon)
    assert projected_demand(tilted(high), 10.0, horizon) >= less * (1 - 1e-12) - 1e-9


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.floats(0.0, 2e6), st.floats(0.0, 3000.0)), max_size=20),
    st.floats(1.0, 3000.0),
)
def test_ready_time_stays_between_prior_and_observations(
    observed: list[tuple[float, float]], prior: float
) -> None:
    got = predicted_ready_s(observed, prior, NOW)
    values = [prior] + [s for _, s in observed]
    assert min(values) * (1 - 1e-9) <= got <= max(values) * (1 + 1e-9)
