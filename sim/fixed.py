"""A fixed fleet: every model held at N copies from the start, which nothing ever scales.

The frontiers of ``sim.bench`` sweep each policy's target, not the minimum copy count a user can
set too. Where bursts are shorter than a cold start and lulls shorter than the instance release
cooldown, holding the copies the peak needs costs less than scaling to it and loses nothing to a
first reaction; ``benchmarks/bench_sim_fixed.py`` measures it against every autoscaler and the
planner (``sim.plan``) offers it beside them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from config.fleet import Fleet

from .bench import BenchSpec, _fleet, effective_seeds
from .figures import interval, run_figures
from .floors import floored
from .run import assign_traffic, component_workloads, run_fleet


def fixed(fleet: Fleet, copies: int) -> Fleet:
    """``fleet`` with every model's copies held at ``copies`` (at most its ``max_copies``): its
    minimum raised there (``sim.floors.floored``, instances included) and its maximum lowered to
    it, so that nothing can scale; 6 instances on the default fleet."""
    if copies < 1:
        raise ValueError(f"a fixed fleet holds at least 1 copy; got {copies}")
    low = floored(fleet, copies)
    endpoints = tuple(
        dataclasses.replace(
            e,
            models=tuple(
                dataclasses.replace(
                    m,
                    min_copies=min(copies, m.max_copies),
                    max_copies=min(copies, m.max_copies),
                    initial_copies=min(copies, m.max_copies),
                )
                for m in e.models
            ),
        )
        for e in low.endpoints
    )
    return dataclasses.replace(low, endpoints=endpoints)


def copy_counts(fleet: Fleet) -> range:
    """The fixed fleets worth trying: 1 copy up to the largest ``max_copies`` of any model."""
    return range(1, max(m.max_copies for m in fleet.models) + 1)


def run_fixed(spec: BenchSpec, copies: int) -> dict[str, Any]:
    """Mean and 95 % interval of SLO attainment and GPU-hours of ``fixed(fleet, copies)`` on
    ``spec``'s fleet, traffic, seeds, load and delays."""
    held = fixed(_fleet(spec.config), copies)
    assigned = assign_traffic(held, spec.traffic)
    slo, gpu = [], []
    for seed in range(effective_seeds(spec, held)):
        workloads = component_workloads(
            held, assigned, seed=seed, load=spec.load, duration_s=spec.duration_s
        )
        # Any policy: with min = max copies none can change the count.
        runs = run_fleet(held, workloads, "aws-target-tracking", delays=spec.delays)
        figures = run_figures(runs)
        slo.append(figures["slo_attainment"])
        gpu.append(figures["gpu_hours"])
    return {"copies": copies, "slo_attainment": interval(slo), "gpu_hours": interval(gpu)}
