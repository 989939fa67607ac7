"""The surge alarm: a second scale-out alarm that acts on one datapoint of a large breach.

The normal scale-out alarm needs 2 of 3 datapoints at 10 s, so that a small breach does not
flap; a spike of several times the threshold is not noise and waiting 10-20 s more for the
second datapoint only delays capacity that takes minutes to arrive. The surge alarm fires on
the first 10 s datapoint at ``multiple`` x the scale-out threshold and invokes the same
scale-out decision (which sizes from the latest datapoint either way).
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import finite, positive

DEFAULT_SURGE_MULTIPLE = 3.0


@dataclass(frozen=True)
class SurgeAlarm:
    """What the stack deploys for the surge alarm on ``ConcurrentRequestsPerCopy``."""

    threshold: float
    period_s: int = 10
    datapoints: int = 1
    evaluation_periods: int = 1


def surge_alarm(threshold: float, multiple: float = DEFAULT_SURGE_MULTIPLE) -> SurgeAlarm:
    """The surge alarm above a scale-out ``threshold``: 1 of 1 x 10 s at ``multiple`` x it.

    The default fleet's threshold of 8 per copy at the default multiple 3: 24 per copy on one
    10 s datapoint. ``multiple`` must exceed 1 (at 1 it would replace the normal alarm).
    """
    base = positive("threshold", threshold)
    factor = finite("multiple", multiple)
    if factor <= 1:
        raise ValueError(f"multiple must be greater than 1, got {multiple!r}")
    return SurgeAlarm(threshold=base * factor)
