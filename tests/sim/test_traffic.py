"""Synthetic traffic: the week-long scenario and the three-model endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sim.traffic import (
    MULTI_MODEL,
    SCENARIOS,
    WAVE_PERIOD_S,
    Workload,
    load_trace,
    multi_model,
    multi_model_shape,
    multi_model_spike_window_s,
    synthetic,
    workload,
)


@pytest.fixture(scope="module")
def week() -> Workload:
    return synthetic("diurnal-week", seed=7)


def hourly(w: Workload) -> np.ndarray:
    counts, _ = np.histogram(w.arrival_s, bins=np.arange(0, w.duration_s + 3600, 3600))
    return counts / 3600.0


def test_the_same_seed_gives_the_same_week_and_another_seed_another(week: Workload) -> None:
    again = synthetic("diurnal-week", seed=7)
    assert np.array_equal(week.arrival_s, again.arrival_s)
    assert np.array_equal(week.prompt_tokens, again.prompt_tokens)
    other = synthetic("diurnal-week", seed=8, duration_s=86_400)
    assert not np.array_equal(week.arrival_s[: other.arrival_s.size], other.arrival_s)


def test_a_week_has_weekday_peaks_above_weekend_peaks(week: Workload) -> None:
    assert week.duration_s == 7 * 86_400
    per_day = hourly(week)[: 7 * 24].reshape(7, 24)
    weekday_peaks, weekend_peaks = per_day[:5].max(axis=1), per_day[5:].max(axis=1)
    assert weekday_peaks.min() > 1.5 * weekend_peaks.max()
    # Every day is quiet at night and busiest around noon.
    assert (per_day[:, 10:15].mean(axis=1) > 3 * per_day[:, [0, 1, 22, 23]].mean(axis=1)).all()


def test_the_week_is_noisy_hour_to_hour(week: Workload) -> None:
    # Each hour against the noiseless shape: Poisson scatter alone is under 2 % an hour.
    centre = np.arange(7 * 24) * 3600.0 + 1800.0
    peak = np.where((centre // 86_400) % 7 >= 5, 5.0, 12.0)
    shape = 1.0 + (peak - 1.0) * (1 - np.cos(2 * np.pi * centre / 86_400)) / 2
    ratio = hourly(week)[: 7 * 24] / shape
    assert 0.08 < ratio.std() < 0.25


def test_adding_scenarios_keeps_the_earlier_ones_as_they_were() -> None:
    # Fingerprints taken from the scenarios before diurnal-week and multi-model were added.
    expected = {"step-spike": 34843, "ramp": 91735, "bursty": 34913}
    for name, count in expected.items():
        assert len(synthetic(name, seed=0)) == count
    assert float(synthetic("step-spike", seed=0).arrival_s.sum()) == pytest.approx(46221408.49)
    assert list(SCENARIOS)[:4] == ["step-spike", "ramp", "diurnal", "bursty"]


COMPONENTS = ["ep-chat", "ep-summarise", "ep-batch"]


@pytest.fixture(scope="module")
def three() -> dict[str, Workload]:
    return multi_model(COMPONENTS, seed=3)


def per_minute(w: Workload) -> np.ndarray:
    counts, _ = np.histogram(w.arrival_s, bins=np.arange(0, w.duration_s + 60, 60))
    return counts[:-1] / 60.0


def test_each_component_gets_its_own_shape_in_fleet_order(three: dict[str, Workload]) -> None:
    assert list(three) == COMPONENTS
    assert [multi_model_shape(i) for i in range(4)] == ["steady", "spike", "wave", "steady"]
    steady, spike, wave = (per_minute(three[c]) for c in COMPONENTS)
    # steady: flat at 6 req/s.
    assert abs(steady.mean() - 6) < 0.3 and steady.std() < 0.6
    # spike: 15 req/s inside its window, 1 outside.
    start, end = multi_model_spike_window_s(three["ep-summarise"].duration_s)
    minute = np.arange(spike.size) * 60
    inside = (minute >= start) & (minute + 60 <= end)
    assert spike[inside].mean() > 10 * spike[~inside & ((minute < start) | (minute >= end))].mean()
    # wave: follows its 30-minute cosine.
    centre = minute + 30
    expected = 0.5 + 7.5 * (1 - np.cos(2 * np.pi * centre / WAVE_PERIOD_S)) / 2
    assert np.corrcoef(wave, expected)[0, 1] > 0.9


def test_the_same_seed_gives_every_component_the_same_traffic(
    three: dict[str, Workload],
) -> None:
    again = multi_model(COMPONENTS, seed=3)
    for c in COMPONENTS:
        assert np.array_equal(three[c].arrival_s, again[c].arrival_s)
        assert np.array_equal(three[c].output_tokens, again[c].output_tokens)
    other = multi_model(COMPONENTS, seed=4)
    assert not np.array_equal(three["ep-chat"].arrival_s[:100], other["ep-chat"].arrival_s[:100])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: multi_model([], seed=0), "at least one component"),
        (lambda: multi_model(["a", "a"], seed=0), "repeated: a"),
        (lambda: multi_model(["a"], seed=0, duration_s=0), "duration must be > 0"),
        (lambda: workload(MULTI_MODEL), "one workload per component"),
    ],
)
def test_bad_multi_model_requests_say_what_is_wrong(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_trace_times_without_a_zone_are_utc_across_a_daylight_saving_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Berlin moved its clocks forward at 01:00 UTC on 2026-03-29; a UTC trace must not notice.
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        path = tmp_path / "t.csv"
        path.write_text(
            "TIMESTAMP,ContextTokens,GeneratedTokens\n"
            "2026-03-29 00:30:00.000000,10,2\n2026-03-29 03:30:00.000000,10,2\n"
        )
        assert load_trace(path).arrival_s.tolist() == [0.0, 10_800.0]
    finally:
        monkeypatch.undo()
        time.tzset()
