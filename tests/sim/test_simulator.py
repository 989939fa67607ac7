"""The fleet simulator and each policy's documented behaviour on small scripted scenarios.

These runs use constant copy speeds (``Constant``) so the arithmetic in the comments holds
whatever the calibrated load-dependent model says; ``test_copy_speed_under_load`` checks that
the simulator uses the rates of the concurrency a request met.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.fleet import DEFAULT_FLEET, Fleet, load_fleet
from sim.component import Component
from sim.policies import POLICIES, make_policy
from sim.protocol import ComponentView
from sim.simulator import RunResult, simulate
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


@dataclasses.dataclass(frozen=True)
class Constant:
    """A copy whose token rates do not depend on its load (the fleet file's figures)."""

    max_concurrency: int = 16
    prefill: float = 6000.0
    decode: float = 25.0

    def prefill_tokens_per_s(self, concurrency: int) -> float:
        return self.prefill

    def decode_tokens_per_s(self, concurrency: int) -> float:
        return self.decode


def constant(component: Component) -> Component:
    return dataclasses.replace(component, speed=Constant())


@pytest.fixture(scope="module")
def component(fleet: Fleet) -> Component:
    return constant(Component.from_fleet(fleet))


@pytest.fixture(scope="module")
def runs(component: Component) -> dict[str, RunResult]:
    return {name: simulate(component, SPIKE, make_policy(name)) for name in POLICIES}


def attainment(result: RunResult) -> float:
    return float(np.mean(result.ttft_s <= result.component.slo_ttft_s))


def first_action(result: RunResult, up: bool = True) -> float:
    return next(a.at_s for a in result.actions if (a.to_copies > a.from_copies) == up)


class Static:
    """Never scales: isolates the serving model from any policy."""

    name = "static"
    container_cache = True
    data_cache = True

    def attach(self, view: ComponentView) -> None:
        pass

    def on_tick(self, view: ComponentView) -> None:
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
    assert attainment(result) == 1.0
    # Nobody waits: the time to first token is the prefill alone, 2000 / 6000 s.
    assert float(result.ttft_s.max()) == pytest.approx(PROMPT / 6000)


def test_overload_queues_and_times_out(component: Component) -> None:
    heavy = scripted([(0, 600, 30)], 600)  # 44 in flight on 16 slots
    r = simulate(component, heavy, Static())
    assert attainment(r) < 0.5
    assert r.timeouts > 0


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=3))
def test_more_capacity_never_lowers_slo_attainment(seed: int, copies: int) -> None:
    component = Component.from_fleet(load_fleet(DEFAULT_FLEET))
    w = synthetic("bursty", seed=seed, duration_s=1800)
    fewer = simulate(with_copies(component, copies), w, Static())
    more = simulate(with_copies(component, copies + 1), w, Static())
    assert attainment(more) >= attainment(fewer)


def test_same_seed_same_result(component: Component) -> None:
    a = synthetic("bursty", seed=7, duration_s=3600)
    b = synthetic("bursty", seed=7, duration_s=3600)
    assert np.array_equal(a.arrival_s, b.arrival_s)
    ra = simulate(component, a, make_policy("project"))
    rb = simulate(component, b, make_policy("project"))
    assert np.array_equal(ra.ttft_s, rb.ttft_s)
    assert ra.actions == rb.actions
    assert not np.array_equal(a.arrival_s, synthetic("bursty", seed=8, duration_s=3600).arrival_s)


def test_gpu_hours_count_every_instance_for_its_lifetime(component: Component) -> None:
    quiet = scripted([(0, 3600, 1)], 3600)
    r = simulate(component, quiet, Static())
    assert r.gpu_hours == pytest.approx(1.0 * component.endpoint.instance.gpus, rel=0.01)


class Speed:
    """Half the rates at concurrency 2 and more: a request that meets company is slower."""

    max_concurrency = 4

    def prefill_tokens_per_s(self, concurrency: int) -> float:
        return 1000.0 if concurrency == 1 else 500.0

    def decode_tokens_per_s(self, concurrency: int) -> float:
        return 10.0 if concurrency == 1 else 5.0


def test_copy_speed_under_load_sets_each_request_s_rates(component: Component) -> None:
    # Given one copy and two requests of 1000 prompt tokens and 10 output tokens, 0.5 s apart
    slow = dataclasses.replace(component, speed=Speed())
    two = Workload(
        "two", np.array([0.0, 0.5]), np.array([1000.0, 1000.0]), np.array([10.0, 10.0]), 60.0
    )
    # When both run on the copy
    r = simulate(slow, two, Static())
    # Then the first, alone, prefills at 1000 tokens/s (1 s to its first token); the second
    # meets one request in service and prefills at 500 tokens/s (2 s)
    assert r.ttft_s.tolist() == pytest.approx([1.0, 2.0])


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
    at = first_action(runs["aws-target-tracking"])
    assert SPIKE_AT_S + 60 <= at <= SPIKE_AT_S + 110


def test_pre_caching_waits_for_three_1_minute_datapoints_and_pulls_the_image(
    runs: dict[str, RunResult],
) -> None:
    at = first_action(runs["pre-caching"])
    assert at >= SPIKE_AT_S + 3 * 60
    assert at > first_action(runs["aws-target-tracking"])
    assert runs["pre-caching"].paths_used["uncached"] > 0
    assert runs["pre-caching"].paths_used["cached"] == 0
    assert runs["aws-target-tracking"].paths_used["uncached"] == 0


def test_target_tracking_scale_in_waits_its_15_minutes(runs: dict[str, RunResult]) -> None:
    r = runs["aws-target-tracking"]
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


def test_tuned_target_tracking_scales_in_by_the_fleet_s_step_policy(
    runs: dict[str, RunResult],
) -> None:
    # Scale-out is target tracking's; scale-in is one copy per 300 s, never target tracking's
    # jump down.
    tuned, plain = runs["aws-target-tracking-tuned"], runs["aws-target-tracking"]
    assert first_action(tuned) == first_action(plain)
    downs = [a for a in tuned.actions if a.to_copies < a.from_copies]
    assert downs and all(a.from_copies - a.to_copies == 1 for a in downs)
    assert all(b.at_s - a.at_s >= 300 for a, b in itertools.pairwise(downs))


def test_step_10s_acts_on_the_fleet_s_10_s_alarm(runs: dict[str, RunResult]) -> None:
    # 2 of 3 datapoints of 10 s: one datapoint sooner than target tracking's 3 of 3.
    assert first_action(runs["aws-step-10s"]) == first_action(runs["aws-target-tracking"]) - 10
    # and the same reaction delay as the project, whose alarm it is: the project's surge alarm
    # (1 of 1 datapoint at 3 x the threshold) sees a 30x spike one datapoint sooner still.
    assert first_action(runs["aws-step-10s"]) == first_action(runs["project"]) + 10


def test_project_scales_out_first_through_the_real_decision_code(
    runs: dict[str, RunResult],
) -> None:
    project = runs["project"]
    assert first_action(project) < first_action(runs["aws-target-tracking"])
    # A 30x spike asks for more than max_copies at once: the first decision is clamped to it.
    assert project.actions[0].reason == "project: AtMax"
    assert project.actions[0].to_copies == project.component.model.max_copies
    # decide() keeps scale-in to one step per cooldown: gradual, never below the min.
    downs = [a for a in project.actions if a.to_copies < a.from_copies]
    assert downs and all(a.from_copies - a.to_copies == 1 for a in downs)
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
