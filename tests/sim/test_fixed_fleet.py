"""A fixed fleet (``sim.fixed``): N copies held from the start, never scaled; the planner offers
it beside the policies."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from config.fleet import DEFAULT_FLEET, load_fleet
from sim.bench import BenchSpec
from sim.fixed import copy_counts, fixed, run_fixed
from sim.floors import floored
from sim.plan import choose_fixed, plan
from sim.run import assign_traffic, component_workloads, run_fleet

ROOT = Path(__file__).resolve().parents[2]
MULTI_MODEL_FLEET = ROOT / "benchmarks/fleets/multi-model.yaml"


def test_a_fixed_fleet_holds_its_copies_through_a_spike() -> None:
    fleet = fixed(load_fleet(DEFAULT_FLEET), 6)
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
    assert result.gpu_hours == pytest.approx(6 * 0.5, rel=0.01)  # 6 instances, half an hour


def test_a_raised_minimum_serves_from_the_start_and_still_scales_out() -> None:
    # Target tracking with MinCapacity 4 (sim.floors): deployed with 4 copies, never below them,
    # and the spike still scales it out towards the maximum of 8.
    fleet = floored(load_fleet(DEFAULT_FLEET), 4)
    [endpoint] = fleet.endpoints
    [model] = endpoint.models
    assert (model.min_copies, model.max_copies, model.initial_copies) == (4, 8, 4)
    assert endpoint.min_instances == 4
    workloads = component_workloads(
        fleet, assign_traffic(fleet, ["step-spike"]), seed=0, duration_s=1800.0
    )
    [result] = run_fleet(fleet, workloads, "aws-target-tracking-tuned")
    [component] = result.components
    assert component.timeline.serving_copies[0] == 4
    assert min(component.timeline.desired_copies) == 4
    assert max(component.timeline.desired_copies) > 4
    with pytest.raises(ValueError, match="at least 1 copy"):
        floored(fleet, 0)


def test_a_model_s_own_larger_minimum_is_kept() -> None:
    fleet = floored(fixed(load_fleet(DEFAULT_FLEET), 6), 2)
    [model] = fleet.models
    assert (model.min_copies, model.initial_copies) == (6, 6)


def test_shared_instances_are_counted_by_what_the_copies_take() -> None:
    # Three models of 1-GPU copies on 4-GPU instances: 2 copies each take 6 GPUs, 2 instances.
    fleet = load_fleet(MULTI_MODEL_FLEET)
    held = fixed(fleet, 2)
    [endpoint] = held.endpoints
    assert {m.min_copies for m in endpoint.models} == {2}
    assert endpoint.min_instances == 2
    assert list(copy_counts(fleet)) == [1, 2, 3, 4, 5, 6]  # up to its models' max_copies, 6
    with pytest.raises(ValueError, match="at least 1 copy"):
        fixed(fleet, 0)


def test_the_planner_offers_the_fewest_fixed_copies_that_meet_the_slo() -> None:
    spec = BenchSpec(
        str(DEFAULT_FLEET),
        ("step-spike",),
        seeds=2,
        grid=(8.0,),
        duration_s=1800.0,
        policies=("project",),
    )
    doc, text = plan(spec, 0.8, processes=1)
    chosen = choose_fixed(doc["fixed"], 0.8)
    assert chosen is not None
    n = chosen["copies"]
    assert f"fixed fleet: {n} copies:" in text
    # It meets the target when replayed, and one copy fewer does not.
    assert run_fixed(spec, n)["slo_attainment"]["mean"] >= 0.8
    assert run_fixed(spec, n - 1)["slo_attainment"]["mean"] < 0.8


def test_the_reference_covers_the_scenarios_shorter_than_a_day() -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_sim_fixed", ROOT / "benchmarks/bench_sim_fixed.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    names = bench.short_scenarios()
    assert {"step-spike", "bursty", "ramp", "azure-code"} <= set(names)
    assert "diurnal" not in names and "diurnal-week" not in names
