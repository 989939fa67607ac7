"""What the simulated project reads besides its alarms: the forecaster's floor on its schedule,
and the ready times its cache tracker observed. Both go through the Lambdas' own functions."""

from __future__ import annotations

import numpy as np
import pytest

from config.fleet import DEFAULT_FLEET, Fleet, load_fleet
from config.specs import scaling_spec
from lambdas.control_plane.bookkeeping import apply_record, history_from
from lambdas.control_plane.decision import ScalingSpec
from lambdas.control_plane.forecast import is_weekend
from lambdas.control_plane.sizing import copies_for_slo
from lambdas.control_plane.state import ComponentState
from sim.cloudwatch import STANDARD_PUBLISH_DELAY_S, MetricSeries
from sim.component import Component
from sim.forecaster import CALENDAR_START_S, Forecaster
from sim.policies import make_policy
from sim.project import Project
from sim.simulator import simulate
from sim.traffic import Workload

DAY_S, HOUR_S = 86_400.0, 3_600.0
QUIET, BUSY = 60.0, 600.0  # invocations per minute: 1 and 10 requests/s


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(DEFAULT_FLEET)


@pytest.fixture(scope="module")
def spec(fleet: Fleet) -> ScalingSpec:
    endpoint = fleet.endpoints[0]
    return scaling_spec(endpoint, endpoint.models[0])


def invocations(minutes: int) -> MetricSeries:
    """Per-minute Invocations of a workday: quiet, busy from 09:00 to 17:00, quiet again."""
    series = MetricSeries("Invocations", 60, STANDARD_PUBLISH_DELAY_S)
    for minute in range(minutes):
        hour = (minute % 1440) / 60
        series.record(BUSY if 9 <= hour < 17 else QUIET)
    return series


def copies(rate_per_s: float, spec: ScalingSpec) -> int:
    assert spec.copy_model is not None
    return copies_for_slo(
        rate_per_s,
        spec.copy_model,
        ttft_s=spec.slo_ttft_s,
        attainment=spec.slo_attainment,
        max_copies=spec.max_copies,
    ).copies


def test_the_simulated_week_starts_on_a_monday_like_the_scenarios() -> None:
    # Given the project's calendar, when the first five days pass, then none is a weekend day
    assert not any(is_weekend(CALENDAR_START_S + d * DAY_S + 1) for d in range(5))
    assert all(is_weekend(CALENDAR_START_S + d * DAY_S + 1) for d in (5, 6))


def test_the_forecaster_raises_the_floor_a_ready_time_before_yesterdays_peak(
    spec: ScalingSpec,
) -> None:
    # Given Monday's traffic, published minute by minute, and Tuesday up to 08:55
    now = DAY_S + 8 * HOUR_S + 55 * 60
    forecaster = Forecaster(spec, invocations(int(now // 60)))
    row = ComponentState(spec.component)
    # When the forecaster runs at 08:30, it looks 258 s + 5 min ahead: nothing rises by then
    early = forecaster.run(row, now - 25 * 60, image_cached=True)
    assert early is not None and early.floor == max(spec.min_copies, copies(1.0, spec))
    # When it runs at 08:55, Monday's 09:00 is within its horizon
    run = forecaster.run(row, now, image_cached=True)
    # Then the floor is the copies the SLO needs at Monday's 09:00 rate, valid for two runs
    assert run is not None and run.floor == copies(BUSY / 60, spec) > spec.min_copies
    history = history_from(apply_record(row, run.record))
    assert history.forecast_floor_copies == run.floor
    assert history.forecast_floor_until == CALENDAR_START_S + now + 2 * 300


def test_without_history_the_forecaster_writes_nothing(spec: ScalingSpec) -> None:
    # Given nothing published yet, when the forecaster runs, then there is nothing to record
    forecaster = Forecaster(spec, MetricSeries("Invocations", 60, STANDARD_PUBLISH_DELAY_S))
    assert forecaster.run(ComponentState(spec.component), 600.0, image_cached=True) is None


def test_a_minute_not_yet_published_is_not_forecast_from(spec: ScalingSpec) -> None:
    # Given Monday's minutes recorded up to 09:00, when the forecaster runs at 09:01:30 (a
    # minute is readable 60 s after it ends, as CloudWatch's standard metrics are)
    forecaster = Forecaster(spec, invocations(9 * 60 + 1))
    forecaster.run(ComponentState(spec.component), 9 * HOUR_S + 90, image_cached=True)
    # Then the history holds the minutes up to 08:59 only
    assert max(forecaster.by_minute) * 60 == CALENDAR_START_S + 8 * HOUR_S + 59 * 60


def test_the_project_serves_tuesdays_peak_with_copies_the_forecaster_asked_for(
    fleet: Fleet,
) -> None:
    # Given a peak of 10 requests/s from 09:00 to 10:00 on Monday and again on Tuesday
    def day(offset: float) -> list[np.ndarray]:
        return [
            np.arange(offset, offset + 9 * HOUR_S, 1.0),
            np.arange(offset + 9 * HOUR_S, offset + 10 * HOUR_S, 0.1),
            np.arange(offset + 10 * HOUR_S, offset + DAY_S, 1.0),
        ]

    end = DAY_S + 9.5 * HOUR_S
    arrivals = np.concatenate(day(0.0) + day(DAY_S))
    arrivals = arrivals[arrivals < end]
    n = arrivals.size
    traffic = Workload("two peaks", arrivals, np.full(n, 2048.0), np.full(n, 28.0), end)
    policy = make_policy("project")
    result = simulate(Component.from_fleet(fleet), traffic, policy)
    # When Tuesday's peak starts, then copies were raised before it by the forecaster
    tuesday_peak = DAY_S + 9 * HOUR_S
    raised = [
        a
        for a in result.actions
        if a.reason == "project: Forecast" and tuesday_peak - 15 * 60 < a.at_s < tuesday_peak
    ]
    assert raised and raised[0].to_copies > raised[0].from_copies
    # And the ready time it planned with is the one its tracker observed on Monday
    assert isinstance(policy, Project)
    assert 0 < policy.row.observed_ready_s["cached"] < 2 * policy.spec.ready_s.cached
