"""One forecaster run's plan for one component, from its history: the floor to write and the
bursts seen. Pure: the Lambda (``forecasting``) and the simulator (``sim.forecaster``) call it
with the history each has read, and act on the same answer.

The floor is the larger of
* the forecast: the copies the predicted peak over the ready time plus the interval needs
  (``forecast.forecast_floor``), never below ``min_copies``; and
* the recent peak: the copies the busiest minute of the endpoint's instance release cooldown
  needed (``bursts.recent_peak``, when burst hold is on): a copy released sooner saves nothing
  while its instance waits out the cooldown.
Both are sized by ``copies_for``: SLO-sized with the spec's copy model, plus its headroom.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .bursts import burst_starts, recent_peak
from .forecast import forecast, forecast_floor
from .headroom import with_headroom
from .inputs import ScalingSpec
from .sizing import copies_for_slo, threshold_copies


def copies_for(spec: ScalingSpec) -> Callable[[float], int] | None:
    """Copies for ``Invocations`` per minute: SLO-sized with the spec's copy model, plus its
    headroom, at most ``max_copies``; ``None`` without a copy model (SLO sizing off: nothing to
    size a forecast with)."""
    model = spec.copy_model
    if model is None:
        return None

    def needed(per_minute: float) -> int:
        sized = copies_for_slo(
            per_minute / 60,
            model,
            ttft_s=spec.slo_ttft_s,
            attainment=spec.slo_attainment,
            max_copies=spec.max_copies,
        )
        return with_headroom(
            sized.copies,
            max_copies=spec.max_copies,
            headroom_copies=spec.headroom_copies,
            headroom_percent=spec.headroom_percent,
        )

    return needed


def bursts_of(
    series: Sequence[tuple[float, float]], needed: Callable[[float], int], base: int
) -> list[float]:
    """Minutes at which the copies ``series`` (invocations per minute) needs rose above
    ``base``: the starts of bursts (``bursts.burst_starts``)."""
    copies: dict[float, int] = {}  # invocation counts repeat: size each once
    for _, v in series:
        if v not in copies:
            copies[v] = needed(v)
    sized = [(t, float(copies[v])) for t, v in series]
    return burst_starts(sized, base + 1)


def _scale_out_sizing(spec: ScalingSpec, needed: Callable[[float], int]) -> Callable[[float], int]:
    """Copies the scale-out rules ask for at ``Invocations`` per minute: the larger of the
    SLO-sized copies and the threshold's (``sizing.threshold_copies``), at most ``max_copies``:
    the copies burst hold keeps are those scale-out put there."""
    model = spec.copy_model
    assert model is not None  # ``needed`` exists only with a copy model

    def copies(per_minute: float) -> int:
        at_threshold = threshold_copies(per_minute / 60, spec.scale_out_threshold, model)
        return min(max(needed(per_minute), at_threshold), spec.max_copies)

    return copies


@dataclass(frozen=True)
class ForecastPlan:
    floor: int  # copies scale-in keeps, and the raise's target
    predicted: float | None  # highest Invocations per minute predicted (None: no history)
    held: int  # copies the recent peak needed (0: burst hold off or no recent minute)
    bursts: list[float]  # starts of the recent bursts


def plan(
    history: Sequence[tuple[float, float]] | Mapping[int, float],
    recent: Sequence[tuple[float, float]],
    now: float,
    spec: ScalingSpec,
    *,
    ready_s: float,
    needed: Callable[[float], int],
) -> ForecastPlan | None:
    """The run's plan: ``history`` is the per-minute ``Invocations`` of previous days (pairs or
    a ``forecast.minute_index``), ``recent`` those of the last hours up to ``now``,
    ``ready_s`` the predicted ready time of a new instance's copy and ``needed`` the sizing
    (``copies_for``). None when there is nothing to go by (no history for the coming minutes,
    no recent burst, no recent minute to hold): nothing is written and nothing raised.
    """
    interval = spec.forecast_interval_s or 0
    predicted = forecast(history, now, ready_s + interval)
    starts = bursts_of(recent, needed, max(spec.min_copies, 1))
    held = 0
    if spec.hold_recent_s is not None:
        held = recent_peak(recent, now, spec.hold_recent_s, _scale_out_sizing(spec, needed))
    if predicted is None and not starts and not held:
        return None
    floor = forecast_floor(
        history,
        now,
        ready_s=ready_s,
        interval_s=interval,
        copies_for=needed,
        held_copies=spec.min_copies,
        max_copies=spec.max_copies,
    )
    return ForecastPlan(max(floor, held), predicted, held, starts)
