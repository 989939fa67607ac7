"""The SLO, lookahead, headroom, forecast and burst rules, composed for ``decide()``.

Pure like ``decision``: each function reads the spec, the snapshot and the history and returns
copies (and why), so the scaler and the simulator get the same answer. Worked numbers are in
docs/control-plane.md ("Sizing for the SLO, lookahead, forecast") and the rows of
tests/control_plane/test_decide_examples.py.

* Scale-out: ``out_copies`` sizes for the SLO at the demand expected when the new copies serve.
  The arrival rate is ``Snapshot.arrival_rate_per_s`` (``Invocations``), else Little's law on
  the latest ``ConcurrentRequestsPerCopy``; the trend of the alarm window carries it over the
  predicted ready time of the path the new copies take (``lookahead``), ``sizing`` turns it into
  copies and ``headroom`` adds the spare ones. ``decide()`` asks for the larger of this and the
  threshold rules' target, still capped by ``max_step_copies`` and ``max_copies``.
* Scale-in: ``in_floor`` is the fewest copies scale-in may leave: the SLO-sized copies for the
  window's demand (with headroom) and the forecaster's floor while it is valid; scale-in
  removes one step at a time; ``hold_for_burst`` holds through a lull that recent bursts say
  ends within a cold start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .bursts import hold_through_gap
from .headroom import with_headroom
from .inputs import History, Path, ScalingSpec, Snapshot
from .lookahead import predicted_ready_s, projected_demand
from .sizing import arrival_rate_from_concurrency, copies_for_slo

# Scale-in removes one step (``scale_in_step_copies``) per decision, whatever SLO sizing says.
# Two steps when the SLO-sized fleet and the forecaster's valid floor both fit in what is left
# were measured on the simulator (10 seeds, reaction 30 s): the forecaster writes a floor at
# every run, so the gate was always open, and on bursty traffic two steps released copies the
# next burst needed: 75.2 % within the SLO instead of 82.7 %, for 0.2 % fewer GPU-hours; on the
# diurnal day and week they saved 0.6 % and 1.2 % of the GPU-hours at the same attainment.


@dataclass(frozen=True)
class Sized:
    """Copies the SLO rules ask for, and how they got there (for the decision's detail)."""

    copies: int
    arrival_rate: float  # requests/s now
    projected_rate: float  # requests/s when the new copies serve
    horizon_s: float | None  # the lookahead's horizon (None: no lookahead)
    path: Path | None  # the path whose ready time is the horizon

    @property
    def projected(self) -> bool:
        return self.projected_rate > self.arrival_rate

    def describe(self) -> str:
        text = f"SLO-sized {self.copies} for {self.arrival_rate:.2f} req/s"
        if self.projected and self.path is not None and self.horizon_s is not None:
            text += (
                f" rising to {self.projected_rate:.2f} req/s in {self.horizon_s:.0f} s "
                f"({self.path.value})"
            )
        return text


def expected_ready_s(path: Path, spec: ScalingSpec, history: History, now: float) -> float:
    """Seconds a new copy on ``path`` is expected to take: this endpoint's observed time
    (``History.observed_ready_s``, the tracker's smoothed figure) weighted by its age against
    the cold-start model's prior (``lookahead.predicted_ready_s``). No observation: the prior;
    one whose time is unknown counts as fresh. Prior 258 s, 300 s observed just now: 272 s."""
    prior = spec.ready_s.for_path(path)
    seen = history.observed_ready_s.get(path.value)
    if seen is None or not math.isfinite(seen) or seen < 0:
        return prior
    at = history.observed_ready_at.get(path.value, now)
    at = at if math.isfinite(at) else now
    return predicted_ready_s([(at, seen)], prior, now)


def arrival_rate(snapshot: Snapshot, spec: ScalingSpec, concurrency: float, copies: int) -> float:
    """Requests per second now: ``Invocations`` when the snapshot has it, else Little's law on
    ``concurrency`` per copy over ``copies`` copies with the spec's copy model."""
    given = snapshot.arrival_rate_per_s
    if given is not None and math.isfinite(given) and given >= 0:
        return given
    if spec.copy_model is None or copies <= 0 or concurrency <= 0:
        return 0.0
    return arrival_rate_from_concurrency(concurrency, copies, spec.copy_model)


def _slo_copies(rate: float, spec: ScalingSpec) -> int:
    """The SLO-sized copies for ``rate`` with the spec's headroom, at most ``max_copies``."""
    assert spec.copy_model is not None
    sized = copies_for_slo(
        rate,
        spec.copy_model,
        ttft_s=spec.slo_ttft_s,
        attainment=spec.slo_attainment,
        max_copies=max(1, spec.max_copies),
    )
    return with_headroom(
        sized.copies,
        max_copies=spec.max_copies,
        headroom_copies=spec.headroom_copies,
        headroom_percent=spec.headroom_percent,
    )


def out_copies(
    snapshot: Snapshot,
    spec: ScalingSpec,
    history: History,
    now: float,
    *,
    concurrency: float,
    serving: int,
    place_path: Path,
) -> Sized | None:
    """The copies scale-out should reach for the SLO at the demand when new copies serve;
    None when SLO sizing is off.

    ``concurrency`` is the latest ``ConcurrentRequestsPerCopy`` over ``serving`` copies and
    ``place_path`` the path the threshold rules' new copies would take (free slots first).
    The projection is the window's trend over that path's expected ready time, at most
    ``lookahead_max_growth`` times the latest datapoint and never below it.
    """
    if spec.copy_model is None:
        return None
    rate = arrival_rate(snapshot, spec, concurrency, serving)
    projected, horizon, path = rate, None, None
    window = [v for v in snapshot.window if math.isfinite(v) and v >= 0]
    if spec.lookahead_max_growth is not None and len(window) >= 2 and window[-1] > 0:
        path = place_path
        horizon = expected_ready_s(path, spec, history, now)
        ahead = projected_demand(
            window,
            spec.scale_out_period_s,
            horizon,
            max_growth=spec.lookahead_max_growth,
        )
        projected = rate * ahead / window[-1]
    return Sized(_slo_copies(projected, spec), rate, projected, horizon, path)


def in_floor(snapshot: Snapshot, spec: ScalingSpec, history: History, now: float) -> int:
    """The fewest copies scale-in may leave (before ``min_copies``): the SLO-sized copies for
    the scale-in window's demand, with headroom, and the forecaster's floor while it is valid
    (``forecast_floor_until`` in the future; with burst hold on it includes the recent peak,
    ``forecast_plan.plan``). 0 when neither applies."""
    floor = 0
    value = snapshot.concurrency_per_copy
    if spec.copy_model is not None and value is not None:
        rate = arrival_rate(snapshot, spec, value, snapshot.current_copies)
        floor = _slo_copies(rate, spec) if rate > 0 else 0
    return max(floor, forecast_floor(spec, history, now))


def forecast_floor(spec: ScalingSpec, history: History, now: float) -> int:
    """The forecaster's floor, if it is on and its last run is still valid; else 0."""
    copies = history.forecast_floor_copies
    if copies is None or not _forecast_valid(spec, history, now):
        return 0
    return min(max(0, copies), spec.max_copies)


def _forecast_valid(spec: ScalingSpec, history: History, now: float) -> bool:
    """The forecaster is on and its last run's floor holds until after ``now``."""
    until = history.forecast_floor_until
    return (
        spec.forecast_interval_s is not None
        and history.forecast_floor_copies is not None
        and until is not None
        and now < until
    )


def hold_for_burst(snapshot: Snapshot, spec: ScalingSpec, history: History, now: float) -> bool:
    """Whether to hold copies through this lull: burst hold is on and the next burst is at
    least ``burst_hold_probability`` likely within a cold start (the new-instance path: the
    released copy's instance may be gone by then)."""
    if spec.burst_hold_probability is None or not history.burst_starts:
        return False
    cold = Path.CACHED if snapshot.image_cached else Path.UNCACHED
    return hold_through_gap(
        history.burst_starts,
        now,
        expected_ready_s(cold, spec, history, now),
        min_probability=spec.burst_hold_probability,
    )
