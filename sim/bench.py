"""The benchmark: every policy, its frontier and its fleet-file setting, over seeds, in parallel.

A job is one policy on one seed's traffic: a run of the whole fleet per knob value (the traffic is
built once per job). Every policy sees the same
requests for a given seed (common random numbers), so differences between policies are not
differences in traffic. Jobs run on ``processes`` worker processes (the machine's cores).

The frontier sweeps each policy's main knob (``sim.policies.KNOBS``) over ``GRID`` plus the fleet
file's own value, and for target tracking with a step scale-in and the project
(``FLOOR_POLICIES``) also the minimum copy count (Application Auto Scaling's ``MinCapacity``,
knob ``min_copies``) over ``FLOORS`` at the fleet file's target; the fleet file's setting is
marked ``default`` and its figures are the report's ``default`` entry, with a 95 % confidence
interval over the seeds.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from config.fleet import Fleet, load_fleet

from .figures import TIMINGS, OfferedMemo, interval, run_figures
from .floors import floored
from .policies import KNOBS, POLICIES
from .request_loop import warm_up
from .run import DEFAULT_DELAYS, Delays, assign_traffic, component_workloads, run_fleet
from .traffic import Workload, seeded

# requests in flight per copy: target tracking's target, the step policies' scale-out threshold
GRID = (3.0, 4.0, 6.0, 8.0, 11.0)
# Minimum copies per model a user can hold (``sim.floors``: Application Auto Scaling's
# MinCapacity, the fleet file's copies.min), swept at the fleet file's target or threshold for
# the AWS policy a careful user runs (``aws-target-tracking-tuned``) and for the project, so
# that both are also compared at the same minimum: for traffic that bursts faster than a cold
# start a raised minimum beats any target (benchmarks/results/sim/fixed.md). aws-scheduled sets
# its minimum hour by hour instead.
FLOORS = (2, 4, 6)
FLOOR_KNOB = "min_copies"
FLOOR_POLICIES = ("aws-target-tracking-tuned", "project")
Knob = dict[str, float]


@dataclass(frozen=True)
class BenchSpec:
    config: str
    traffic: tuple[str, ...]
    seeds: int = 10
    load: float = 1.0
    delays: Delays = DEFAULT_DELAYS
    policies: tuple[str, ...] = POLICIES
    grid: tuple[float, ...] = GRID
    floors: tuple[int, ...] = FLOORS
    duration_s: float | None = None
    frontier: bool = True

    def __post_init__(self) -> None:
        unknown = [p for p in self.policies if p not in POLICIES]
        if unknown:
            raise ValueError(f"unknown policy {unknown[0]!r}; allowed: {', '.join(POLICIES)}")
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1; got {self.seeds}")
        if any(n < 1 for n in self.floors):
            raise ValueError(f"floors must be copy counts >= 1; got {self.floors}")


@dataclass(frozen=True)
class Job:
    spec: BenchSpec
    policy: str
    knobs: tuple[Knob, ...]
    seed: int


@functools.lru_cache(maxsize=8)
def _fleet(path: str) -> Fleet:
    return load_fleet(path)


def fleet_default(fleet: Fleet) -> float | None:
    """The fleet file's knob value when every component shares one scale-out threshold."""
    values = {m.scaling.scale_out.threshold for m in fleet.models}
    return float(values.pop()) if len(values) == 1 else None


def effective_seeds(spec: BenchSpec, fleet: Fleet) -> int:
    """Recorded traces at their own rate are the same requests for every seed: one run."""
    assigned = assign_traffic(fleet, spec.traffic)
    return spec.seeds if any(map(seeded, assigned.values())) or spec.load != 1.0 else 1


def default_knob(fleet: Fleet, policy: str) -> Knob:
    """The fleet file's own setting of ``policy``'s knob (empty when the components differ)."""
    default = fleet_default(fleet)
    return {} if default is None else {KNOBS[policy]: default}


def knob_points(spec: BenchSpec, fleet: Fleet, policy: str) -> list[Knob]:
    """The settings ``policy``'s frontier runs: its main knob over the grid (and the fleet
    file's value), then, for ``FLOOR_POLICIES``, each floor above every model's own minimum at
    the fleet file's value."""
    default = fleet_default(fleet)
    if not spec.frontier:
        return [default_knob(fleet, policy)]
    grid = sorted(set(spec.grid) | ({default} if default else set()))
    points: list[Knob] = [{KNOBS[policy]: v} for v in grid]
    if default is None:
        points.append({})
    if policy in FLOOR_POLICIES:
        lowest = min(m.min_copies for m in fleet.models)
        highest = max(m.max_copies for m in fleet.models)
        points += [
            {**default_knob(fleet, policy), FLOOR_KNOB: float(n)}
            for n in sorted(set(spec.floors))
            if lowest < n <= highest
        ]
    return points


def jobs(spec: BenchSpec) -> list[Job]:
    fleet = _fleet(spec.config)
    seeds = effective_seeds(spec, fleet)
    return [
        Job(spec, policy, tuple(knob_points(spec, fleet, policy)), seed)
        for seed in range(seeds)
        for policy in spec.policies
    ]


TrafficKey = tuple[str, tuple[str, ...], float, float | None, int]
# The last traffic built in this process, with its offered load (``run_figures``' memo): the
# jobs of one seed (every policy) replay the same requests, so a worker builds them once.
_traffic: dict[TrafficKey, tuple[dict[str, Workload], OfferedMemo]] = {}


def _traffic_key(job: Job) -> TrafficKey:
    spec = job.spec
    return (spec.config, spec.traffic, spec.load, spec.duration_s, job.seed)


def job_traffic(job: Job) -> tuple[dict[str, Workload], OfferedMemo]:
    """The job's workloads (built from its seed, or kept from the previous job of that seed)."""
    key = _traffic_key(job)
    if key not in _traffic:
        _traffic.clear()
        spec = job.spec
        fleet = _fleet(spec.config)
        workloads = component_workloads(
            fleet,
            assign_traffic(fleet, spec.traffic),
            seed=job.seed,
            load=spec.load,
            duration_s=spec.duration_s,
        )
        _traffic[key] = (workloads, {})
    return _traffic[key]


def run_job(job: Job) -> list[dict[str, Any]]:
    """Figures of the job's runs, one per knob value (``cpu_s``: the run's processor time)."""
    spec = job.spec
    fleet = _fleet(spec.config)
    workloads, memo = job_traffic(job)
    out = []
    for knob in job.knobs:
        start = time.process_time()
        floor = knob.get(FLOOR_KNOB)
        policy_knob = {k: v for k, v in knob.items() if k != FLOOR_KNOB} or None
        runs_on = fleet if floor is None else floored(fleet, int(floor))
        figures = run_figures(
            run_fleet(runs_on, workloads, job.policy, policy_knob, spec.delays), memo
        )
        cpu_s = time.process_time() - start
        out.append({**figures, "knob": knob, "seed": job.seed, "cpu_s": cpu_s})
    return out


def _run_group(group: Sequence[Job]) -> list[list[dict[str, Any]]]:
    return [run_job(j) for j in group]


def run_all(all_jobs: Sequence[Job], processes: int | None = None) -> list[list[dict[str, Any]]]:
    """Figures of every job, in order, on ``processes`` workers (default: every core).

    Jobs go to the workers in the order given (put the longest first) in groups sharing one
    seed's traffic, so that traffic is built once; when there are too few seeds to keep every
    worker busy, one job at a time.
    """
    n = processes or os.cpu_count() or 1
    if n == 1 or len(all_jobs) < 2:
        return [run_job(j) for j in all_jobs]
    groups: list[list[Job]] = []
    for job in all_jobs:
        if groups and _traffic_key(groups[-1][-1]) == _traffic_key(job):
            groups[-1].append(job)
        else:
            groups.append([job])
    if len(groups) < 2 * n:
        groups = [[j] for j in all_jobs]
    warm_up()  # compile the request loop once, before the workers fork
    with get_context("fork").Pool(n) as pool:
        return [r for done in pool.imap(_run_group, groups) for r in done]


def report(spec: BenchSpec, results: Sequence[tuple[Job, list[dict[str, Any]]]]) -> dict[str, Any]:
    """report.json's document (``sim.cli`` documents the interface)."""
    fleet = _fleet(spec.config)
    seeds = effective_seeds(spec, fleet)
    policies: dict[str, Any] = {}
    for policy in spec.policies:
        default = default_knob(fleet, policy)
        mine = [f for j, fs in results if j.policy == policy for f in fs]
        frontier = []
        for knob in knob_points(spec, fleet, policy):
            runs = [f for f in mine if f["knob"] == knob]
            slo = interval([f["slo_attainment"] for f in runs])
            gpu = interval([f["gpu_hours"] for f in runs])
            assert slo is not None and gpu is not None
            frontier.append(
                {
                    "knob": knob,
                    "slo_attainment": slo["mean"],
                    "gpu_hours": gpu["mean"],
                    "slo_attainment_ci95": slo["ci95"],
                    "gpu_hours_ci95": gpu["ci95"],
                    "default": knob == default,
                }
            )
        runs = [f for f in mine if f["knob"] == default]
        entry: dict[str, Any] = {
            name: interval([f[name] for f in runs])
            for name in ("slo_attainment", "gpu_hours", *TIMINGS, "p99_ttft_s", "failed")
        }
        entry["paths"] = {p: sum(f["paths"][p] for f in runs) / len(runs) for p in runs[0]["paths"]}
        policies[policy] = {
            "default": entry,
            "knob": KNOBS[policy],
            "endpoints": {
                ep: {"gpu_hours": interval([f["endpoints"][ep] for f in runs])}
                for ep in runs[0]["endpoints"]
            },
            "frontier": frontier,
        }
    return {
        "trace": " ".join(spec.traffic),
        "config": spec.config,
        "seeds": seeds,
        "reaction_s": spec.delays.reaction_s,
        "publish_delay_s": spec.delays.publish_delay_s,
        "idle_release_s": spec.delays.idle_release_s,
        "load": spec.load,
        "slo_ttft_s": fleet.slo_ttft_s,
        "policies": policies,
    }


def bench(spec: BenchSpec, processes: int | None = None) -> dict[str, Any]:
    """Run ``spec`` and return its report document."""
    todo = jobs(spec)
    return report(spec, list(zip(todo, run_all(todo, processes), strict=True)))
