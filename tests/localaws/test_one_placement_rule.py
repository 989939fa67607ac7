"""moto's inference components and the simulator place, time and remove copies by one rule.

Endpoint ``alpha`` of ``tests/infra/two_endpoints.yaml`` (a 1-GPU and a 2-GPU model sharing
4-GPU ml.g6.12xlarge instances, up to 3 here) is built in moto and simulated side by side.
Every 10 s tick, scripted copy counts go to moto (refused while a component is still
updating, as SageMaker refuses them) and whatever moto accepted goes to the simulation, in the
same order, as in the demo. At every tick both must show the same serving copies of each model
and the same instances, launched and running.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from config.fleet import Endpoint, load_fleet
from demo.world import create_endpoint
from localaws import sagemaker_ic
from sim.component import Component
from sim.lane import Lane
from sim.protocol import ComponentView
from sim.simulator import TICK_S, EndpointSimulation
from sim.traffic import Workload

FLEET = Path(__file__).resolve().parent.parent / "infra" / "two_endpoints.yaml"
ROLE = "arn:aws:iam::123456789012:role/r"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"
DURATION_S = 3600.0


class Scripted:
    """The simulation's policy: it decides nothing; the test hands it moto's copy counts."""

    name = "scripted"
    container_cache = True
    data_cache = True

    def __init__(self) -> None:
        self.on_each_tick = lambda: None

    def attach(self, view: ComponentView) -> None:
        pass

    def on_tick(self, view: ComponentView) -> None:
        if isinstance(view, Lane) and view.idx == 0:  # once a tick, every lane's tick recorded
            self.on_each_tick()


@pytest.fixture
def sm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sagemaker_ic.install()
    with mock_aws():
        yield boto3.client("sagemaker")


def alpha() -> tuple[Any, Endpoint]:
    fleet = load_fleet(FLEET)
    return fleet, dataclasses.replace(fleet.endpoint("alpha"), max_instances=3)


def replay(sm: Any, script: dict[float, list[tuple[int, int]]]) -> list[str]:
    """Run ``script`` (tick -> [(model index, copy count)]) through moto and the simulation;
    every disagreement, one line per tick and model; also the copies set and the paths taken."""
    fleet, endpoint = alpha()
    ctl = sagemaker_ic.control()
    ctl.set_clock(lambda: 0.0)
    ctl.set_ready_delay(lambda component, path, held: 0.0)  # the endpoint was deployed before
    create_endpoint(sm, endpoint, {m.component_name: IMAGE for m in endpoint.models}, ROLE)
    empty = Workload("none", np.zeros(0), np.zeros(0), np.zeros(0), DURATION_S)
    policy = Scripted()
    components = [Component.of(fleet, endpoint, m) for m in endpoint.models]
    sim = EndpointSimulation([(c, empty, policy) for c in components])
    by_name = {c.name: c for c in components}
    ctl.set_clock(lambda: sim.now)
    ctl.set_ready_delay(
        lambda component, path, held: by_name[component].ready_s(
            path, container_cache=True, data_cache=held
        )
    )
    disagreements: list[str] = []

    def tick() -> None:
        for k, copies in script.get(sim.now, []):
            try:
                sm.update_inference_component_runtime_config(
                    InferenceComponentName=sim.lanes[k].c.name,
                    DesiredRuntimeConfig={"CopyCount": copies},
                )
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ValidationException"
                continue  # still updating: the scaler would try again later
            lane = sim.lanes[k]
            lane.set_desired(copies, "scripted")
        for lane in sim.lanes:
            runtime = sm.describe_inference_component(InferenceComponentName=lane.c.name)
            current = runtime["RuntimeConfig"]["CurrentCopyCount"]
            if current != lane.serving:
                disagreements.append(f"{sim.now:.0f} s {lane.c.name}: {current} vs {lane.serving}")
        pool = sim.pool
        running = sum(1 for i in pool.live() if i.ready_at <= sim.now)
        if ctl.instance_counts(endpoint.name) != (running, pool.live_count()):
            disagreements.append(
                f"{sim.now:.0f} s instances: {ctl.instance_counts(endpoint.name)} vs "
                f"{(running, pool.live_count())}"
            )

    policy.on_each_tick = tick
    result = sim.run()
    assert [sorted(r.paths_used.items()) for r in result.components]  # the run completed
    return disagreements


def test_a_copy_joining_a_launching_instance_serves_after_its_own_cold_start(sm: Any) -> None:
    # Given chat (1 GPU) and code (2 GPUs) on one running instance, 1 GPU free
    # When code asks for a second copy (a new instance), then chat for three more: one fills
    # the running instance, two join the launching one, whose model (chat's) is bigger than
    # the one it was launched for, so they serve after their own cold start, not the instance's
    script = {10.0: [(1, 2)], 20.0: [(0, 4)], 900.0: [(0, 1)], 910.0: [(1, 1)]}
    assert replay(sm, script) == []


def test_random_copy_counts_keep_moto_and_the_simulation_together(sm: Any) -> None:
    # Many scale-outs and scale-ins of both models, against 3 instances' worth of room: copies
    # wait for room, warm paths with and without the model, joins, removals and releases.
    rng = random.Random(20240611)
    _, endpoint = alpha()
    script: dict[float, list[tuple[int, int]]] = {}
    for t in range(TICK_S, int(DURATION_S) - 600, 30):
        if rng.random() < 0.3:
            k = rng.randrange(len(endpoint.models))
            m = endpoint.models[k]
            script[float(t)] = [(k, rng.randint(m.min_copies, m.max_copies))]
    assert replay(sm, script) == []
