"""The figures of one run, and their mean and 95 % confidence interval over seeds.

Timings are measured from the first breach of the offered load, which does not depend on the
policy: the requests in flight if none ever waited (each request held for its service time at
full batch), averaged over a minute. The breach is the first minute that load exceeds what the
component's initial copies hold (copies x ``max_concurrency``); on ``step-spike`` that is the
spike. From it:

* ``detection_s``: to the first scale-out decision (the capacity call) at or after it;
* ``first_copy_s``: to the first copy decided at or after it that serves;
* ``time_to_capacity_s``: to the first minute serving capacity covers the offered load again.

A timing with no such event (no breach, or it never happened) is None. For several components,
a run's timing is the mean over the components that have it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats  # type: ignore[import-untyped]

from .simulator import PATH_NAMES, TICK_S, EndpointResult, RunResult

SMOOTHING_TICKS = 6  # one minute of 10 s ticks
TIMINGS = ("detection_s", "first_copy_s", "time_to_capacity_s")


def offered_concurrency(result: RunResult, ticks: int) -> np.ndarray:
    """Mean requests in flight per 10 s tick if none ever waited (policy independent).

    The integral of N(t) = starts(<= t) - ends(<= t) over each tick, from cumulative sums: for
    times x_i, the integral up to e of #(x_i <= t) is sum over x_i < e of (e - x_i).
    """
    c, w = result.component, result.workload
    pre, dec = c.rates()
    full = c.max_concurrency
    start = w.arrival_s
    end = np.sort(start + w.prompt_tokens / pre[full] + w.output_tokens / dec[full])
    edges = np.arange(ticks + 1, dtype=np.float64) * TICK_S

    def integral(x: np.ndarray) -> np.ndarray:
        cumulative = np.r_[0.0, np.cumsum(x)]
        k = np.searchsorted(x, edges, side="left")
        return k * edges - cumulative[k]

    return np.asarray(np.diff(integral(start) - integral(end)) / TICK_S, dtype=np.float64)


def smooth(values: np.ndarray, ticks: int = SMOOTHING_TICKS) -> np.ndarray:
    """Trailing mean over ``ticks`` ticks."""
    if values.size == 0:
        return values
    cumulative = np.r_[0.0, np.cumsum(values)]
    idx = np.arange(1, values.size + 1)
    lo = np.maximum(0, idx - ticks)
    return np.asarray((cumulative[idx] - cumulative[lo]) / (idx - lo), dtype=np.float64)


# Smoothed offered load by (component, ticks): runs on the same workloads (one benchmark job's
# knob values) share it, as it does not depend on the policy.
OfferedMemo = dict[tuple[str, int], np.ndarray]


def timings(result: RunResult, memo: OfferedMemo | None = None) -> dict[str, float | None]:
    """The three timings of one component's run (module docstring).

    ``memo`` keeps each component's offered load for further runs on the same workloads.
    """
    tl = result.timeline
    ticks = len(tl.t_s)
    none: dict[str, float | None] = dict.fromkeys(TIMINGS)
    if not ticks:
        return none
    key = (result.component.name, ticks)
    if memo is not None and key in memo:
        offered = memo[key]
    else:
        offered = smooth(offered_concurrency(result, ticks))
        if memo is not None:
            memo[key] = offered
    m = result.component.model
    initial = max(m.initial_copies, m.min_copies) * result.component.max_concurrency
    over = np.flatnonzero(offered > initial)
    if not over.size:
        return none
    k0 = int(over[0])
    t0 = tl.t_s[k0] - TICK_S
    out = dict(none)
    out["detection_s"] = next(
        (a.at_s - t0 for a in result.actions if a.to_copies > a.from_copies and a.at_s >= t0),
        None,
    )
    ready = [serving for decided, serving, _ in result.new_copies if decided >= t0]
    out["first_copy_s"] = min(ready) - t0 if ready else None
    capacity = np.asarray(tl.serving_copies, dtype=np.float64) * result.component.max_concurrency
    covered = np.flatnonzero(capacity[k0:] >= offered[k0:])
    if covered.size:
        out["time_to_capacity_s"] = tl.t_s[k0 + int(covered[0])] - TICK_S - t0
    return out


def run_figures(
    endpoints: Sequence[EndpointResult], memo: OfferedMemo | None = None
) -> dict[str, Any]:
    """Headline figures of one run of a whole fleet (every endpoint, every component).

    Pass one ``memo`` to the runs of one set of workloads (``timings``); never across workloads.
    """
    components = [r for e in endpoints for r in e.components]
    within = sum(int(np.sum(r.ttft_s <= r.component.slo_ttft_s)) for r in components)
    requests = sum(int(r.ttft_s.size) for r in components)
    per = [timings(r, memo) for r in components]
    figures: dict[str, Any] = {
        "slo_attainment": within / requests if requests else 1.0,
        "gpu_hours": sum(e.gpu_hours for e in endpoints),
        "endpoints": {e.endpoint: e.gpu_hours for e in endpoints},
        "requests": requests,
        "failed": sum(r.failures + r.timeouts for r in components),
        "scale_actions": sum(len(r.actions) for r in components),
        "paths": {p: sum(r.paths_used[p] for r in components) for p in PATH_NAMES},
    }
    for name in TIMINGS:
        values = [v for t in per if (v := t[name]) is not None]
        figures[name] = float(np.mean(values)) if values else None
    all_ttft = np.concatenate([r.ttft_s for r in components]) if components else np.zeros(0)
    finite_p99 = float(np.percentile(all_ttft, 99, method="inverted_cdf")) if requests else 0.0
    figures["p99_ttft_s"] = finite_p99 if math.isfinite(finite_p99) else None
    return figures


def interval(values: Sequence[float | None]) -> dict[str, Any] | None:
    """Mean and 95 % confidence interval (Student's t) of the seeds that have a value.

    None when no seed has one; ``n`` says how many had. One value: the interval is that value.
    """
    xs = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if not xs.size:
        return None
    mean = float(xs.mean())
    if xs.size == 1:
        return {"mean": mean, "ci95": [mean, mean], "n": 1}
    half = float(stats.t.ppf(0.975, xs.size - 1) * xs.std(ddof=1) / math.sqrt(xs.size))
    return {"mean": mean, "ci95": [mean - half, mean + half], "n": int(xs.size)}
