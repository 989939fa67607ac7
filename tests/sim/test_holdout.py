"""The held-out traffic (sim/holdout.py): reproducible, seeded, shaped as described, benchmarked."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from config.fleet import DEFAULT_FLEET
from sim.bench import BenchSpec, jobs
from sim.cli import main
from sim.holdout import (
    SCALED_TRACES,
    SHAPES,
    flash_crowd_spikes,
    ramp_down_knots,
    sawtooth_teeth,
    sparse_bursts,
)
from sim.traffic import HOLDOUT, SCENARIOS, Workload, workload

ROOT = Path(__file__).resolve().parents[2]
SEEDS = range(6)


def per_minute(w: Workload) -> np.ndarray:
    counts, _ = np.histogram(w.arrival_s, bins=np.arange(0, w.duration_s + 60, 60))
    return counts[: int(w.duration_s // 60)] / 60.0


def minutes_inside(w: Workload, edges: list[tuple[float, float, float]]) -> np.ndarray:
    """Whether each whole minute of the run lies inside one of ``edges``' spans."""
    start = np.arange(int(w.duration_s // 60)) * 60.0
    inside = np.zeros(start.size, dtype=bool)
    for a, b, _ in edges:
        inside |= (start >= a) & (start + 60 <= b)
    return inside


def shape_of(name: str, seed: int) -> Any:
    """What the seed draws first for a scenario: its spikes, bursts, knots or teeth."""
    draw = {
        "flash-crowd": flash_crowd_spikes,
        "sparse-bursts": sparse_bursts,
        "ramp-down": ramp_down_knots,
        "sawtooth": sawtooth_teeth,
    }[name]
    return draw(SCENARIOS[name].default_duration_s, np.random.default_rng(seed))


def test_held_out_names_are_registered_traffic_and_not_the_developed_on_scenarios() -> None:
    assert HOLDOUT == ("flash-crowd", "sparse-bursts", "ramp-down", "sawtooth", "azure-code-half")
    for name in SHAPES:
        assert SCENARIOS[name].description == SHAPES[name].description
    developed_on = {"step-spike", "ramp", "diurnal", "bursty", "diurnal-week", "azure-code"}
    assert not developed_on & set(HOLDOUT)


@pytest.mark.parametrize("name", HOLDOUT)
def test_the_same_seed_gives_the_same_traffic_and_another_seed_other_traffic(name: str) -> None:
    a, again, other = workload(name, seed=4), workload(name, seed=4), workload(name, seed=5)
    assert a.name == name
    for field in ("arrival_s", "prompt_tokens", "output_tokens"):
        assert np.array_equal(getattr(a, field), getattr(again, field))
    n = min(len(a), len(other))
    assert not np.array_equal(a.arrival_s[:n], other.arrival_s[:n])


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_seed_places_the_shape_somewhere_else(name: str) -> None:
    drawn = [repr(shape_of(name, seed)) for seed in SEEDS]
    assert len(set(drawn)) == len(drawn)


@pytest.mark.parametrize("name", list(SHAPES))
def test_a_shape_never_exceeds_its_peak_which_the_default_fleet_serves(name: str) -> None:
    # Arrivals are thinned from the peak rate: a rate above it would be silently cut. 8 copies
    # serve about 4 req/s each within the SLO; the developed-on scenarios peak at 25 req/s.
    shape = SHAPES[name]
    assert shape.peak_rate <= 25.0
    t = np.arange(0.0, shape.default_duration_s, 1.0)
    for seed in range(50):
        rate = shape.rate(shape.default_duration_s, np.random.default_rng(seed))(t)
        assert rate.min() >= 0.5 and rate.max() <= shape.peak_rate


def test_the_scaled_trace_stays_within_what_the_default_fleet_serves() -> None:
    assert per_minute(workload("azure-code-half", seed=0)).max() < 25.0


def test_flash_crowd_spikes_are_where_the_seed_puts_them() -> None:
    counts = set()
    for seed in SEEDS:
        w = workload("flash-crowd", seed=seed)
        spikes = shape_of("flash-crowd", seed)
        assert isinstance(spikes, list)
        counts.add(len(spikes))
        rate = per_minute(w)
        for start, end, high in spikes:
            assert 300 <= end - start <= 900 and 15 <= high <= 25 and start >= 600
            inside = minutes_inside(w, [(start, end, high)])
            assert abs(rate[inside].mean() - high) < 0.1 * high
        quiet = ~minutes_inside(w, [(a - 60, b + 60, r) for a, b, r in spikes])
        assert abs(rate[quiet].mean() - 5.0) < 0.3
    assert counts == {2, 3}


def test_sparse_bursts_leave_gaps_longer_than_the_idle_release_cooldown() -> None:
    gaps = []
    for seed in SEEDS:
        w = workload("sparse-bursts", seed=seed)
        bursts = shape_of("sparse-bursts", seed)
        assert isinstance(bursts, list) and len(bursts) >= 3
        rate = per_minute(w)
        # Busy minutes (over 6 req/s) are exactly the burst minutes, give or take an edge.
        busy = np.flatnonzero(rate > 6.0)
        assert minutes_inside(w, bursts)[busy].mean() > 0.6
        assert minutes_inside(w, bursts).sum() <= busy.size
        for start, end, _ in bursts[:-1]:
            assert 240 <= end - start <= 360
        gaps += [b[0] - a[1] for a, b in itertools.pairwise(bursts)]
        assert rate[~minutes_inside(w, [(a - 60, b + 60, r) for a, b, r in bursts])].max() < 3
    assert min(gaps) > 20 * 60 and np.mean(gaps) > 30 * 60


def test_ramp_down_falls_to_a_trickle_as_long_as_the_seed_says_then_rises_again() -> None:
    for seed in SEEDS:
        w = workload("ramp-down", seed=seed)
        times, rates = shape_of("ramp-down", seed)
        rate = per_minute(w)
        minute = np.arange(rate.size) * 60.0
        busy = (minute >= times[1]) & (minute + 60 <= times[2])
        trickle = (minute >= times[3]) & (minute + 60 <= times[4])
        assert rate[busy].mean() > 20 and rate[trickle].mean() < 1.5
        assert 20 * 60 <= times[4] - times[3] <= 40 * 60
        # the second rise: to 10-16 req/s, below the first, held to the end
        assert 10 <= rates[-1] <= 16 and times[5] <= w.duration_s
        expected = np.interp(minute + 30, times, rates)
        assert np.abs(rate - expected).mean() < 0.5


def test_sawtooth_climbs_through_each_tooth_and_drops_at_once() -> None:
    for seed in SEEDS:
        w = workload("sawtooth", seed=seed)
        teeth = shape_of("sawtooth", seed)
        assert isinstance(teeth, list)
        rate = per_minute(w)
        minute = np.arange(rate.size) * 60.0
        for (start, end, peak), (following, _, _) in itertools.pairwise(teeth):
            if end > w.duration_s - 120:
                break
            assert 900 <= end - start <= 1800 and 14 <= peak <= 22 and following == end
            last = rate[(minute >= end - 180) & (minute + 60 <= end)].mean()
            first = rate[(minute >= end) & (minute + 60 <= end + 180)].mean()
            assert last > 0.75 * peak and first < 4  # back to 2 req/s at once


def test_azure_code_half_is_the_recorded_hour_at_half_its_rate_bursts_in_place() -> None:
    full, half = workload("azure-code"), workload("azure-code-half", seed=0)
    assert SCALED_TRACES["azure-code-half"][:2] == ("azure-code", 0.5)
    assert len(half) == pytest.approx(len(full) / 2, rel=0.05)
    assert np.corrcoef(per_minute(full), per_minute(half))[0, 1] > 0.95
    # every request is one of the trace's, at its own time
    assert np.isin(half.arrival_s, full.arrival_s).all()
    assert workload("azure-code-half", seed=0, load=2).name == "azure-code-half x2"


def test_held_out_traffic_runs_every_seed_in_the_benchmark() -> None:
    for name in HOLDOUT:
        spec = BenchSpec(str(DEFAULT_FLEET), (name,), seeds=3, grid=(8.0,))
        assert {j.seed for j in jobs(spec)} == {0, 1, 2}, name


@pytest.mark.parametrize("name", HOLDOUT)
def test_bench_runs_on_each_held_out_scenario(name: str, tmp_path: Path) -> None:
    out = tmp_path / name
    args = ["bench", "--trace", name, "--seeds", "1", "--grid", "8", "--processes", "1"]
    assert main([*args, "--out", str(out)]) == 0
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["trace"] == name
    assert {"project", "aws-target-tracking"} <= set(doc["policies"])


def test_the_benchmark_judges_every_held_out_scenario_on_the_default_fleet() -> None:
    spec = importlib.util.spec_from_file_location("bench_sim", ROOT / "benchmarks/bench_sim.py")
    assert spec is not None and spec.loader is not None
    bench_sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_sim)
    cases = {name: (config, traffic) for name, config, traffic in bench_sim.cases()}
    for name in HOLDOUT:
        assert cases[name] == (str(DEFAULT_FLEET), (name,))
    names = [name for name, _, _ in bench_sim.cases()]
    assert names[-len(HOLDOUT) :] == list(HOLDOUT)  # after the developed-on ones
