"""The fleet simulator and each policy's documented behaviour on small scripted scenarios."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.fleet import DEFAULT_FLEET, Fleet, load_fleet
from lambdas.control_plane.targets import SLO_SCALE_IN_STEPS
from sim.cli import main
from sim.policies import POLICIES, make_policy
from sim.simulator import Component, RunResult, Simulation, describe, simulate
from sim.traffic import Workload, load_trace, synthetic, workload

# 2000-token prompts with 28 output tokens: 2000 / 6000 + 28 / 25 = 1.45 s of service each.
PROMPT, OUTPUT = 2000.0, 28.0
SERVICE_S = PROMPT / 6000 + OUTPUT / 25


def scripted(rates: list[tuple[float, float, float]], duration_s: float) -> Workload:
    """Evenly spaced arrivals: (start_s, end_s, requests per second) segments."""
    arrivals = np.concatenate([np.arange(a, b, 1.0 / r) for a, b, r in rates if r > 0])
    arrivals.sort()
    n = arrivals.size
    return Workload("scripted", arrivals, np.full(n, PROMPT), np.full(n, OUTPUT), duration_s)


# Quiet (1 req/s: 1.45 in flight), spike from 300 s to 1200 s (30 req/s: 44 in flight, 2.7
# copies' worth of slots), quiet again until the end.
SPIKE_AT_S, SPIKE_END_S = 300.0, 1200.0
SPIKE = scripted([(0, SPIKE_AT_S, 1), (SPIKE_AT_S, SPIKE_END_S, 30), (SPIKE_END_S, 4200, 1)], 4200)


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(DEFAULT_FLEET)


@pytest.fixture(scope="module")
def component(fleet: Fleet) -> Component:
    return Component.from_fleet(fleet)


@pytest.fixture(scope="module")
def runs(component: Component) -> dict[str, RunResult]:
    return {name: simulate(component, SPIKE, make_policy(name)) for name in POLICIES}


def first_action(result: RunResult, up: bool = True) -> float:
    return next(a.at_s for a in result.actions if (a.to_copies > a.from_copies) == up)


class Static:
    """Never scales: isolates the serving model from any policy."""

    name = "static"
    container_cache = True
    data_cache = True

    def attach(self, sim: Simulation) -> None:
        pass

    def on_tick(self, sim: Simulation) -> None:
        pass


def with_copies(component: Component, copies: int) -> Component:
    model = dataclasses.replace(
        component.model, initial_copies=copies, min_copies=min(component.model.min_copies, copies)
    )
    return dataclasses.replace(component, model=model)


# --- physics ---------------------------------------------------------------------------------
def test_one_copy_under_its_limit_never_queues(component: Component) -> None:
    quiet = scripted([(0, 600, 5)], 600)  # 7 in flight, 16 slots
    result = simulate(component, quiet, Static())
    assert describe(result)["slo_attainment"] == 1.0
    assert float(result.waits_s.max()) == 0.0


def test_overload_queues_and_times_out(component: Component) -> None:
    heavy = scripted([(0, 600, 30)], 600)  # 44 in flight on 16 slots
    d = describe(simulate(component, heavy, Static()))
    assert d["slo_attainment"] < 0.5
    assert d["timed_out_invocations"] > 0


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=3))
def test_more_capacity_never_lowers_slo_attainment(seed: int, copies: int) -> None:
    component = Component.from_fleet(load_fleet(DEFAULT_FLEET))
    w = synthetic("bursty", seed=seed, duration_s=1800)
    fewer = describe(simulate(with_copies(component, copies), w, Static()))
    more = describe(simulate(with_copies(component, copies + 1), w, Static()))
    assert more["slo_attainment"] >= fewer["slo_attainment"]


def test_same_seed_same_result(component: Component) -> None:
    a = synthetic("bursty", seed=7, duration_s=3600)
    b = synthetic("bursty", seed=7, duration_s=3600)
    assert np.array_equal(a.arrival_s, b.arrival_s)
    ra = simulate(component, a, make_policy("project"))
    rb = simulate(component, b, make_policy("project"))
    assert describe(ra) == describe(rb)
    assert ra.actions == rb.actions
    assert not np.array_equal(a.arrival_s, synthetic("bursty", seed=8, duration_s=3600).arrival_s)


def test_gpu_hours_count_every_instance_for_its_lifetime(component: Component) -> None:
    quiet = scripted([(0, 3600, 1)], 3600)
    d = describe(simulate(component, quiet, Static()))
    assert d["gpu_hours"] == pytest.approx(1.0 * component.endpoint.instance.gpus, rel=0.01)


# --- policies ----------------------------------------------------------------------------------
def test_every_policy_scales_out_for_the_spike_and_back_in_later(
    runs: dict[str, RunResult],
) -> None:
    for name, r in runs.items():
        assert max(a.to_copies for a in r.actions) >= 3, name
        assert r.actions[-1].to_copies < max(a.to_copies for a in r.actions), name


def test_high_resolution_target_tracking_reacts_within_its_30_s_alarm_plus_delays(
    runs: dict[str, RunResult],
) -> None:
    # 3 x 10 s datapoints, 30 s publishing, 30 s for Application Auto Scaling to act.
    at = first_action(runs["aws-recommended"])
    assert SPIKE_AT_S + 60 <= at <= SPIKE_AT_S + 110


def test_legacy_waits_for_three_1_minute_datapoints_and_pulls_the_image(
    runs: dict[str, RunResult],
) -> None:
    at = first_action(runs["legacy"])
    assert at >= SPIKE_AT_S + 3 * 60
    assert at > first_action(runs["aws-recommended"])
    assert runs["legacy"].paths_used["uncached"] > 0
    assert runs["legacy"].paths_used["cached"] == 0
    assert runs["aws-recommended"].paths_used["uncached"] == 0


def test_target_tracking_scale_in_waits_its_15_minutes(runs: dict[str, RunResult]) -> None:
    r = runs["aws-recommended"]
    down = first_action(r, up=False)
    tl = r.timeline
    # The low alarm needs 90 consecutive 10 s datapoints under 90 % of the target (8 -> 7.2):
    # the last datapoint at or over it must be at least 15 minutes before the scale-in.
    last_not_low = max(
        t
        for t, n, c in zip(tl.t_s, tl.in_system, tl.serving_copies, strict=True)
        if t < down and c and n / c >= 0.9 * 8
    )
    assert down - last_not_low >= 15 * 60
    assert down - last_not_low <= 15 * 60 + 120  # and then it does act


def test_step_sample_acts_on_its_60_s_alarm_period(runs: dict[str, RunResult]) -> None:
    at = first_action(runs["aws-step-sample"])
    # Evaluated at minute boundaries, then 30 s for Application Auto Scaling.
    assert (at - 30) % 60 == pytest.approx(0, abs=1e-6)
    assert at > first_action(runs["aws-recommended"]) - 1


def test_project_scales_out_first_through_the_real_decision_code(
    runs: dict[str, RunResult],
) -> None:
    project = runs["project"]
    assert first_action(project) < first_action(runs["aws-recommended"])
    # A 30x spike asks for more than max_copies at once: the first decision is clamped to it.
    assert project.actions[0].reason == "project: AtMax"
    assert project.actions[0].to_copies == project.component.model.max_copies
    # decide() keeps scale-in to one step per cooldown (two when the SLO-sized fleet fits in
    # what is left): gradual, never below the min.
    downs = [a for a in project.actions if a.to_copies < a.from_copies]
    assert downs and all(1 <= a.from_copies - a.to_copies <= SLO_SCALE_IN_STEPS for a in downs)
    assert all(b.at_s - a.at_s >= 300 for a, b in itertools.pairwise(downs))


def test_the_project_lambda_runs_on_transitions_and_its_own_reevaluations(
    component: Component,
) -> None:
    policy = make_policy("project")
    simulate(component, SPIKE, policy)
    decisions = policy.decisions  # type: ignore[attr-defined]
    times = [t for t, *_ in decisions]
    # Alarm transitions plus re-evaluations every cooldown, never once per 10 s tick.
    assert len(decisions) < SPIKE.duration_s / 60
    # While the alarm stays in ALARM the scaler looks again and finds the copies already asked
    # for enough (InFlight) or the component at its maximum (AtMax): no second action.
    assert any(reason in ("InFlight", "AtMax") for _, reason, *_ in decisions[1:])
    assert times == sorted(times)


# --- traffic and the command line --------------------------------------------------------
def test_the_bundled_azure_trace_is_one_hour_of_8819_requests() -> None:
    trace = workload("azure-code")
    assert len(trace) == 8819
    assert 3400 < trace.duration_s < 3700
    assert np.all(np.diff(trace.arrival_s) >= 0)


def test_load_multiplies_the_rate_and_keeps_the_bursts() -> None:
    base = workload("azure-code")
    double = workload("azure-code", load=2.0, seed=3)
    assert len(double) == 2 * len(base)
    hist_base = np.histogram(base.arrival_s, bins=60, range=(0, 3600))[0]
    hist_double = np.histogram(double.arrival_s, bins=60, range=(0, 3600))[0]
    assert np.corrcoef(hist_base, hist_double)[0, 1] > 0.99


def test_bad_traffic_input_names_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown trace 'nope'; allowed: a scenario"):
        workload("nope")
    bad = tmp_path / "bad.csv"
    bad.write_text("time,tokens\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header must be TIMESTAMP,ContextTokens,GeneratedTokens"):
        load_trace(bad)
    with pytest.raises(ValueError, match="load must be a number > 0"):
        workload("step-spike", load=0)
    with pytest.raises(ValueError, match="unknown policy 'fast'"):
        make_policy("fast")


def test_replay_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    code = main(
        [
            "replay",
            "--trace",
            "step-spike",
            "--duration-h",
            "0.5",
            "--policy",
            "all",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    assert {"report.json", "report.md", "capacity.png", "coldstart.png"} <= {
        p.name for p in out.iterdir()
    }
    import json

    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert list(doc["policies"]) == list(POLICIES)
    for p in doc["policies"].values():
        assert 0 <= p["slo_attainment"] <= 1
        assert {
            "p50_wait_s",
            "p99_wait_s",
            "gpu_hours",
            "scale_actions",
            "flaps",
            "capacity_episodes",
        } <= set(p)
    assert "| project |" in (out / "report.md").read_text(encoding="utf-8")
    assert "report.md" in capsys.readouterr().out


def test_replay_rejects_an_unknown_trace(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--trace", "nope", "--out", "/tmp/unused", "--quiet"]) == 2
    assert "unknown trace 'nope'" in capsys.readouterr().err
