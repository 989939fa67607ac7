"""The demo on an endpoint whose components share instances: two models (1-GPU and 2-GPU copies)
on 4-GPU ml.g6.12xlarge instances (``tests/infra/two_endpoints.yaml``). moto's inference
components and the simulation place, time and remove every copy by one rule, so moto's
``CurrentCopyCount`` and the simulation's serving copies agree at every tick, and so do their
instance counts.

The run is built once for the module (about 15 s).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from config.fleet import load_fleet
from demo.results import DemoResult
from demo.run import run_demo

pytestmark = pytest.mark.e2e

FLEET = Path(__file__).resolve().parent.parent / "infra" / "two_endpoints.yaml"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    log = tmp_path_factory.mktemp("demo") / "handler-logs.jsonl"
    return run_demo(load_fleet(FLEET), duration_s=1800, log_path=log)


def test_both_models_scale_on_the_shared_endpoint(result: DemoResult) -> None:
    # The story needs copies of both models to be added while they share instances.
    for component in ("alpha-chat", "alpha-code"):
        series = result.series(component)
        assert max(s.desired for s in series) > series[0].desired, component


def test_moto_and_the_simulation_agree_on_serving_copies(result: DemoResult) -> None:
    drifted = [
        (s.t_s, s.component, s.current, s.sim_serving)
        for s in result.samples
        if s.current != s.sim_serving
    ]
    assert drifted == []
    assert result.drift_ticks == 0
    assert "one physics" not in [c.name for c in result.checks if not c.ok]
