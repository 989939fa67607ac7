"""The fixed-fleet reference (benchmarks/bench_sim_fixed.py): N copies held from the start."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from config.fleet import DEFAULT_FLEET, load_fleet
from sim.run import assign_traffic, component_workloads, run_fleet

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_sim_fixed", ROOT / "benchmarks/bench_sim_fixed.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_fixed_fleet_holds_its_copies_through_a_spike(bench: ModuleType) -> None:
    fleet = bench.fixed(load_fleet(DEFAULT_FLEET), 6)
    [endpoint] = fleet.endpoints
    [model] = endpoint.models
    assert (model.min_copies, model.max_copies, model.initial_copies) == (6, 6, 6)
    assert endpoint.min_instances == 6
    workloads = component_workloads(
        fleet, assign_traffic(fleet, ["step-spike"]), seed=0, duration_s=1800.0
    )
    [result] = run_fleet(fleet, workloads, "aws-target-tracking")
    [component] = result.components
    assert set(component.timeline.desired_copies) == {6}
    assert set(component.timeline.instances) == {6}
    assert result.gpu_hours == pytest.approx(6 * 0.5, rel=0.01)  # 6 instances for half an hour


def test_the_reference_covers_the_scenarios_shorter_than_a_day(bench: ModuleType) -> None:
    names = bench.short_scenarios()
    assert {"step-spike", "bursty", "ramp", "azure-code"} <= set(names)
    assert "diurnal" not in names and "diurnal-week" not in names
