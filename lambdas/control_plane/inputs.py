"""What a scaling decision reads: the policy (``ScalingSpec``), the observation
(``Snapshot``) and the past (``History``), as plain frozen data that travels as JSON.

``decision`` re-exports every name here; the Lambda, the simulator and the synth build these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from .copy_model import CopyModel


class Trigger(StrEnum):
    """Which alarm asked for the decision."""

    SCALE_OUT = "scale_out"
    SURGE = "surge"  # the surge alarm: one datapoint far over the threshold; acts as scale-out
    SCALE_IN = "scale_in"
    FROM_ZERO = "from_zero"


class Path(StrEnum):
    """How a new copy becomes ready, fastest first."""

    WARM_INSTANCE = "warm_instance"  # free accelerators on a running instance: data cache
    CACHED = "cached"  # new instance, container image already cached for this endpoint
    UNCACHED = "uncached"  # new instance, image pulled from ECR


@dataclass(frozen=True)
class Step:
    breach: float  # fraction over the threshold: (value - threshold) / threshold
    add_percent: int  # of the serving copies; at least one copy


@dataclass(frozen=True)
class ReadyTimes:
    """Seconds from the decision until a new copy serves, by path (the cold-start model's)."""

    warm_instance: float
    cached: float
    uncached: float

    def for_path(self, path: Path) -> float:
        return float(getattr(self, path.value))


@dataclass(frozen=True)
class ScalingSpec:
    """The policy of one inference component, built from the fleet configuration."""

    endpoint: str
    component: str
    min_copies: int
    max_copies: int
    scale_out_threshold: float
    scale_out_cooldown_s: int
    steps: tuple[Step, ...]
    max_step_copies: int
    scale_in_threshold: float
    scale_in_cooldown_s: int
    scale_in_step_copies: int
    scale_in_datapoints: int  # datapoints the scale-in window must hold to trust it
    from_zero_copies: int
    copies_per_instance: int
    max_instances: int
    ready_s: ReadyTimes
    # The rules of docs/control-plane.md, "Sizing for the SLO, lookahead, forecast". Each is off
    # at its default here (the fleet file turns them on): None, or no spare copies.
    copy_model: CopyModel | None = None  # SLO sizing: a typical request's times on one copy
    slo_ttft_s: float = 2.0
    slo_attainment: float = 0.99
    lookahead_max_growth: float | None = None  # lookahead: the projection's cap (x latest)
    scale_out_period_s: int = 10  # the scale-out (and surge) alarm's period: the trend's step
    surge_multiple: float | None = None  # the surge alarm: this x scale_out_threshold
    headroom_copies: int = 0
    headroom_percent: float = 0.0
    forecast_interval_s: int | None = None  # the forecaster's schedule; its floor's lifetime
    forecast_history_days: int = 14
    burst_hold_probability: float | None = None  # hold through a lull at this chance or more
    # Burst hold: scale-in keeps what the busiest minute of this many seconds needed (the
    # endpoint's instance release cooldown, ``bursts.recent_peak``); None: off.
    hold_recent_s: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready data, leaving out the fields at their defaults (the components
        document carries one spec per component: 20 of them must stay small)."""
        data = asdict(self)
        for f in fields(self):
            if f.default is not MISSING and data[f.name] == f.default:
                del data[f.name]
        return data

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ScalingSpec:
        data = dict(raw)
        data["steps"] = tuple(Step(**s) for s in data["steps"])
        data["ready_s"] = ReadyTimes(**data["ready_s"])
        if data.get("copy_model") is not None:
            data["copy_model"] = CopyModel.from_dict(data["copy_model"])
        return cls(**data)


@dataclass(frozen=True)
class Snapshot:
    """What was observed when the alarm fired or the re-evaluation came due."""

    trigger: Trigger
    alarm_in_alarm: bool
    concurrency_per_copy: float | None  # ConcurrentRequestsPerCopy, latest window
    datapoints: int  # datapoints behind that value
    desired_copies: int
    current_copies: int  # copies serving now
    no_capacity_failures: float | None = None
    free_copy_slots: int | None = None  # copies that fit on running instances right now
    instances: int | None = None
    image_cached: bool | None = None  # has this endpoint run the image before
    # For the lookahead: the alarm window's datapoints, oldest first (scale-out and surge).
    window: tuple[float, ...] = ()
    # Requests per second arriving now (Invocations); None: read from the concurrency by
    # Little's law with the copy model.
    arrival_rate_per_s: float | None = None


def snapshot(
    trigger: Trigger,
    in_alarm: bool,
    datapoints: Sequence[float],
    desired_copies: int,
    current_copies: int,
    *,
    free_copy_slots: int | None = None,
    instances: int | None = None,
    image_cached: bool | None = None,
    arrival_rate_per_s: float | None = None,
) -> Snapshot:
    """The decision's inputs from the alarm window's datapoints (oldest first, missing ones
    left out) and the copy counts; the scaler and the simulator both build theirs here.

    Scale-out sizes its step on the latest datapoint (the breach now); scale-in averages the
    whole window (10 one-minute datapoints for the default scale-in alarm), so one quiet minute
    never removes a copy; from-zero reads the largest count of failed invocations in the window.
    """
    concurrency: float | None
    failures: float | None = None
    window = tuple(datapoints) if trigger in (Trigger.SCALE_OUT, Trigger.SURGE) else ()
    if trigger is Trigger.SCALE_IN:
        concurrency = sum(datapoints) / len(datapoints) if datapoints else None
    elif trigger is Trigger.FROM_ZERO:
        concurrency, failures = None, (max(datapoints) if datapoints else None)
    else:
        concurrency = datapoints[-1] if datapoints else None
    return Snapshot(
        trigger=trigger,
        alarm_in_alarm=in_alarm,
        concurrency_per_copy=concurrency,
        datapoints=len(datapoints),
        desired_copies=desired_copies,
        current_copies=current_copies,
        no_capacity_failures=failures,
        free_copy_slots=free_copy_slots,
        instances=instances,
        image_cached=image_cached,
        window=window,
        arrival_rate_per_s=arrival_rate_per_s,
    )


@dataclass(frozen=True)
class History:
    """The past as the state table remembers it."""

    last_scale_out_at: float | None = None
    last_scale_in_at: float | None = None
    observed_ready_s: Mapping[str, float] = field(default_factory=dict)  # by Path value
    observed_ready_at: Mapping[str, float] = field(default_factory=dict)  # when, by Path value
    # False when the state table could not be read: cooldowns are unknown, so scale-in (which
    # needs them) holds, while scale-out (which does not) goes ahead.
    complete: bool = True
    # Written by the forecaster: copies scale-in must keep until ``forecast_floor_until``.
    forecast_floor_copies: int | None = None
    forecast_floor_until: float | None = None
    burst_starts: tuple[float, ...] = ()  # recent bursts' start times, oldest first
