"""Whole endpoints: copies of several models share one instance pool; GPU-hours count once."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from config.fleet import DEFAULT_FLEET, Fleet, load_fleet
from sim.component import Component
from sim.policies import make_policy
from sim.protocol import ComponentView
from sim.run import assign_traffic, component_workloads, run_fleet
from sim.simulator import EndpointSimulation
from sim.traffic import Workload


def two_models_on_one_4_gpu_endpoint(
    tmp_path: Path, instance_type: str = "ml.g6.12xlarge"
) -> Fleet:
    """The default fleet's model twice (chat and code) on one multi-GPU instance type."""
    raw = yaml.safe_load(DEFAULT_FLEET.read_text(encoding="utf-8"))
    ep = raw["endpoints"][0]
    ep.update(name="shared", instance_type=instance_type, min_instances=1, max_instances=2)
    chat = ep["models"][0]
    chat["copies"] = {"min": 1, "max": 4, "initial": 2}
    code = {**copy.deepcopy(chat), "name": "code"}
    ep["models"] = [chat, code]
    path = tmp_path / "shared.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_fleet(path)


class Static:
    name = "static"
    container_cache = True
    data_cache = True

    def attach(self, view: ComponentView) -> None:
        pass

    def on_tick(self, view: ComponentView) -> None:
        pass


def quiet(duration_s: float) -> Workload:
    arrivals = np.arange(0.0, duration_s, 2.0)
    n = arrivals.size
    return Workload("quiet", arrivals, np.full(n, 500.0), np.full(n, 20.0), duration_s)


@pytest.mark.parametrize(
    ("instance_type", "gpus"),
    [("ml.g6.12xlarge", 4), ("ml.g5.12xlarge", 4), ("ml.p4d.24xlarge", 8)],
)
def test_two_models_share_one_multi_gpu_instance_and_count_its_gpu_hours_once(
    tmp_path: Path, instance_type: str, gpus: int
) -> None:
    # Given two models with two 1-GPU copies each on an endpoint of multi-GPU instances
    fleet = two_models_on_one_4_gpu_endpoint(tmp_path, instance_type)
    ep = fleet.endpoints[0]
    lanes = [(Component.of(fleet, ep, m), quiet(3600.0), Static()) for m in ep.models]
    # When an hour passes
    sim = EndpointSimulation(lanes)
    result = sim.run()
    # Then all four copies sit on one instance, and that instance's GPUs for one hour are
    # counted once for the endpoint (4 GPU-hours on a 4-GPU type, not 4 per model)
    assert len(sim.pool.instances) == 1
    assert sim.pool.instances[0].copies == 4
    assert result.gpu_hours == pytest.approx(float(gpus), rel=0.01)
    assert [r.gpu_hours for r in result.components] == [result.gpu_hours] * 2


def test_a_copy_of_one_model_lands_on_the_room_another_left(tmp_path: Path) -> None:
    fleet = two_models_on_one_4_gpu_endpoint(tmp_path)
    ep = fleet.endpoints[0]
    lanes = [(Component.of(fleet, ep, m), quiet(600.0), Static()) for m in ep.models]
    sim = EndpointSimulation(lanes)
    chat, code = sim.lanes
    # The instance is full (2 + 2 copies): a third copy of code needs a new instance ...
    sim.now = sim.pool.now = 100.0
    code.set_desired(3, "test")
    assert code.paths_used["cached"] == 1
    assert len(sim.pool.live()) == 2
    # ... while a copy chat gives back makes room for code on the running one (warm path).
    chat.set_desired(1, "test")
    code.set_desired(4, "test")
    assert code.paths_used["warm_instance"] == 1


def test_copies_wait_for_room_when_the_endpoint_is_at_max_instances(tmp_path: Path) -> None:
    fleet = two_models_on_one_4_gpu_endpoint(tmp_path)
    ep = dataclasses.replace(fleet.endpoints[0], max_instances=1)
    lanes = [(Component.of(fleet, ep, m), quiet(600.0), Static()) for m in ep.models]
    sim = EndpointSimulation(lanes)
    chat, code = sim.lanes
    code.set_desired(3, "test")  # no room, no instance allowed: it waits
    assert len(code.waiting) == 1 and len(sim.pool.instances) == 1
    chat.set_desired(1, "test")  # room appears: the waiting copy takes it
    assert not code.waiting
    assert code.paths_used["warm_instance"] == 1


def test_a_fleet_run_gives_each_component_its_own_traffic(tmp_path: Path) -> None:
    fleet = two_models_on_one_4_gpu_endpoint(tmp_path)
    assigned = assign_traffic(fleet, ["step-spike", "code=azure-code"])
    assert assigned == {"shared-chat": "step-spike", "shared-code": "azure-code"}
    workloads = component_workloads(fleet, assigned, seed=0, duration_s=1800)
    (result,) = run_fleet(fleet, workloads, "project")
    assert [r.workload.name for r in result.components] == [
        "step-spike",
        "AzureLLMInferenceTrace_code",
    ]
    with pytest.raises(ValueError, match="no component 'nope'; allowed: shared-chat, shared-code"):
        assign_traffic(fleet, ["nope=ramp"])


def test_every_policy_runs_a_multi_gpu_endpoint(tmp_path: Path) -> None:
    fleet = two_models_on_one_4_gpu_endpoint(tmp_path)
    workloads = component_workloads(
        fleet, assign_traffic(fleet, ["step-spike"]), seed=1, duration_s=1800
    )
    for name in ("aws-target-tracking", "project"):
        (result,) = run_fleet(fleet, workloads, name)
        # 4 GPUs per instance: GPU-hours are whole instance-hours times 4
        assert result.gpu_hours >= 4 * 0.5 - 1e-9
        assert all(r.actions for r in result.components), name
    assert make_policy("project").name == "project"


def test_an_endpoint_that_may_have_no_instance_starts_with_one_until_it_is_idle_released() -> None:
    # Given an endpoint with min_instances 0 and a model with no copy to start with: SageMaker
    # launches InitialInstanceCount >= 1 instance (the stacks deploy max(1, min_instances))
    fleet = load_fleet(DEFAULT_FLEET)
    ep = fleet.endpoints[0]
    model = dataclasses.replace(ep.models[0], min_copies=0, initial_copies=0)
    ep = dataclasses.replace(ep, min_instances=0, models=(model,))
    assert ep.initial_instances == 1
    empty = Workload("none", np.zeros(0), np.zeros(0), np.zeros(0), 3600.0)
    # When an hour passes with no request
    sim = EndpointSimulation([(Component.of(fleet, ep, model), empty, Static())])
    result = sim.run()
    # Then that one empty instance is billed until the scale-in policy's cooldown releases it
    release_s = ep.scale_in_policy.cooldown_minutes * 60
    [instance] = sim.pool.instances
    assert (instance.launched_at, instance.released_at) == (0.0, release_s)
    assert result.gpu_hours == pytest.approx(release_s / 3600, rel=0.02)
