"""The capacity planner: per policy, the cheapest setting that meets an SLO on given traffic.

It runs the benchmark's frontiers (``sim.bench``) and, for every policy, picks the frontier point
with the fewest mean GPU-hours whose mean SLO attainment over the seeds is at least the target;
then the fewest copies a fixed fleet (``sim.fixed``: held from the start, never scaled) needs.
Replaying that setting on the same traffic and seeds gives the same mean: the answer meets the
target it was asked for (tested). A finer or wider sweep than ``sim.bench.GRID`` is a ``grid``.
"""

from __future__ import annotations

from typing import Any

from .bench import FLOOR_KNOB, BenchSpec, _fleet, bench
from .fixed import copy_counts, run_fixed
from .policies import KNOBS
from .thresholds import with_thresholds


def choose(doc: dict[str, Any], slo: float) -> dict[str, dict[str, Any] | None]:
    """Policy -> the cheapest frontier point meeting ``slo`` (None when none does)."""
    out: dict[str, dict[str, Any] | None] = {}
    for name, p in doc["policies"].items():
        ok = [x for x in p["frontier"] if x["slo_attainment"] >= slo]
        out[name] = min(ok, key=lambda x: x["gpu_hours"]) if ok else None
    return out


def fleet_lines(spec: BenchSpec, policy: str, point: dict[str, Any]) -> list[str]:
    """What to write to get that setting: fleet-file lines, or the Application Auto Scaling
    parameter for AWS's own policies."""
    if not point["knob"]:
        return ["(the fleet file's own setting)"]
    floor = point["knob"].get(FLOOR_KNOB)
    minimum = (
        []
        if floor is None
        else [
            f"minimum {floor:g} copies per model (at most its max), deployed with them: "
            "copies.min and copies.initial in the fleet file (MinCapacity for Application Auto "
            "Scaling)"
        ]
    )
    value = point["knob"].get(KNOBS[policy])
    if value is None:
        return minimum
    if policy in ("project", "aws-step-10s"):
        lines = []
        for m in _fleet(spec.config).models:
            s = with_thresholds(m, value).scaling
            lines.append(
                f"{m.component_name}: scaling.scale_out.threshold: {s.scale_out.threshold:g}, "
                f"scaling.scale_in.threshold: {s.scale_in.threshold:g}"
            )
        return lines + minimum
    if policy == "pre-caching":
        return [
            f"TargetValue for SageMakerInferenceComponentInvocationsPerCopy: {value:g} in flight "
            "per copy / mean service time (s) x 60"
        ]
    lines = [
        f"TargetValue for SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution: "
        f"{value:g}"
    ]
    if policy != "aws-target-tracking":
        lines.append(
            "DisableScaleIn: true, plus a step scale-in policy on the fleet's scale-in alarm"
        )
    if policy == "aws-scheduled":
        lines.append(
            "plus scheduled minimums, weekdays and weekends apart (cron MON-FRI and SAT,SUN), "
            "from the hourly peaks of the most recent day of the same kind (sim/schedule.py)"
        )
    return lines + minimum


def plan(spec: BenchSpec, slo: float, processes: int | None = None) -> tuple[dict[str, Any], str]:
    """Run the frontiers and return (the bench document, the planner's answer as text)."""
    if not 0 < slo <= 1:
        raise ValueError(f"--slo must be a fraction of requests, 0 < slo <= 1; got {slo}")
    doc = bench(spec, processes)
    lines = [
        f"Cheapest setting per policy with at least {100 * slo:g} % of requests within "
        f"TTFT <= {doc['slo_ttft_s']:g} s on {doc['trace']} ({doc['seeds']} seed(s), reaction "
        f"{doc['reaction_s']:g} s):",
        "",
    ]
    for name, point in choose(doc, slo).items():
        if point is None:
            best = max(doc["policies"][name]["frontier"], key=lambda x: x["slo_attainment"])
            lines.append(
                f"{name}: no setting meets it (best {100 * best['slo_attainment']:.1f} % at "
                f"{best['gpu_hours']:.2f} GPU-hours)"
            )
            continue
        knob = ", ".join(f"{k} {v:g}" for k, v in point["knob"].items()) or "fleet file's"
        lines.append(
            f"{name}: {knob}: {100 * point['slo_attainment']:.1f} % at "
            f"{point['gpu_hours']:.2f} GPU-hours"
        )
        lines += [f"    {line}" for line in fleet_lines(spec, name, point)]
    doc["fixed"] = [run_fixed(spec, n) for n in copy_counts(_fleet(spec.config))]
    lines.append(_fixed_line(doc["fixed"], slo))
    return doc, "\n".join(lines) + "\n"


def choose_fixed(points: list[dict[str, Any]], slo: float) -> dict[str, Any] | None:
    """The fewest copies held from the start whose mean attainment meets ``slo``."""
    ok = [p for p in points if p["slo_attainment"]["mean"] >= slo]
    return min(ok, key=lambda p: p["gpu_hours"]["mean"]) if ok else None


def _fixed_line(points: list[dict[str, Any]], slo: float) -> str:
    point = choose_fixed(points, slo)
    if point is None:
        best = max(points, key=lambda p: p["slo_attainment"]["mean"])
        return (
            f"fixed fleet: no copy count meets it (best {best['copies']} copies: "
            f"{100 * best['slo_attainment']['mean']:.1f} % at {best['gpu_hours']['mean']:.2f} "
            "GPU-hours)"
        )
    n = point["copies"]
    return (
        f"fixed fleet: {n} copies: {100 * point['slo_attainment']['mean']:.1f} % at "
        f"{point['gpu_hours']['mean']:.2f} GPU-hours\n"
        f"    every model: copies: {{min: {n}, max: {n}, initial: {n}}} (at most its max), "
        "min_instances for them; nothing scales (sim/fixed.py)"
    )
