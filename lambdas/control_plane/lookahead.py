"""Size scale-out for the demand expected when the new copies serve, not for the demand now.

A copy asked for now serves 76 s (free slot), 258 s (new instance, image cached) or about
520 s (image pulled) later. Demand still rising at the decision is not covered when the copy
arrives, so scale-out projects the alarm window's trend over the predicted ready time, and the
ready time itself is learnt from this endpoint's own scale-outs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .checks import finite, positive

DEFAULT_MAX_GROWTH = 2.0  # the projection never more than doubles the latest value
DEFAULT_HALF_LIFE_S = 7 * 86400.0  # a week-old timing counts half as much as one taken now
DEFAULT_PRIOR_WEIGHT = 2.0  # the cold-start model counts as two fresh observations


def trend_per_s(datapoints: Sequence[float], period_s: float) -> float:
    """Least-squares slope, per second, of datapoints ``period_s`` apart (oldest first).

    [8, 10, 12] at 10 s: +0.2 per second. Fewer than two datapoints: no trend, 0.0.
    """
    period = positive("period_s", period_s)
    values = [finite(f"datapoint {i}", v) for i, v in enumerate(datapoints)]
    n = len(values)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = math.fsum(values) / n
    covariance = math.fsum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    spread = math.fsum((i - mean_x) ** 2 for i in range(n))
    return covariance / spread / period


def projected_demand(
    datapoints: Sequence[float],
    period_s: float,
    horizon_s: float,
    *,
    max_growth: float = DEFAULT_MAX_GROWTH,
) -> float:
    """The demand to size scale-out for: the window's trend carried ``horizon_s`` ahead.

    From the fitted value at the latest datapoint (the line through the window, less noisy than
    the latest datapoint alone) plus slope x horizon, then bounded: never below the latest
    datapoint (a falling or noisy window never shrinks a scale-out), never above
    ``max_growth`` x the latest (three 10 s datapoints extrapolated over 258 s would otherwise
    turn noise into a fleet), never negative.

    ``ConcurrentRequestsPerCopy`` [8, 10, 12] at 10 s, a new cached instance in 258 s: the line
    ends at 12, rises 0.2/s, 12 + 51.6 = 63.6, capped at 2 x 12 = 24. A free slot in 30 s:
    12 + 6 = 18. [12, 10, 8]: 8, the latest. Units are those of the datapoints.
    """
    horizon = finite("horizon_s", horizon_s, minimum=0)
    growth = finite("max_growth", max_growth, minimum=1)
    if not datapoints:
        raise ValueError("datapoints must hold at least one value to project")
    values = [finite(f"datapoint {i}", v, minimum=0) for i, v in enumerate(datapoints)]
    slope = trend_per_s(values, period_s)
    latest = values[-1]
    n = len(values)
    fitted_end = math.fsum(values) / n + slope * period_s * (n - 1) / 2
    projected = fitted_end + slope * horizon
    return max(latest, min(projected, latest * growth))


def predicted_ready_s(
    observed: Sequence[tuple[float, float]],
    prior_s: float,
    now: float,
    *,
    half_life_s: float = DEFAULT_HALF_LIFE_S,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
) -> float:
    """Seconds a new copy on one path is expected to take, from this endpoint's timings.

    ``observed`` holds (timestamp, seconds from decision to serving) for the path. Each counts
    ``0.5 ** (age / half_life_s)``; the cold-start model's ``prior_s`` counts ``prior_weight``:

        (prior_weight x prior_s + sum(w_i x s_i)) / (prior_weight + sum(w_i))

    so one odd timing cannot swing the prediction, many recent ones take over, and old ones
    fade. Prior 258 s, a 300 s scale-out just now and a 280 s one a week ago (weights 1 and
    0.5): (2 x 258 + 300 + 0.5 x 280) / 3.5 = 273.1 s. No observation: the prior. Timestamps
    after ``now`` (clock skew) count as fresh.
    """
    prior = positive("prior_s", prior_s)
    at = finite("now", now)
    half_life = positive("half_life_s", half_life_s)
    weight_sum = finite("prior_weight", prior_weight, minimum=0)
    total = weight_sum * prior
    for i, (timestamp, seconds) in enumerate(observed):
        age = max(0.0, at - finite(f"observed[{i}] timestamp", timestamp))
        value = finite(f"observed[{i}] seconds", seconds, minimum=0)
        weight = 0.5 ** (age / half_life)
        weight_sum += weight
        total += weight * value
    if weight_sum <= 0:  # a zero prior weight and observations too old to count
        return prior
    return total / weight_sum
