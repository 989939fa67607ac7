"""Scheduled actions as a careful user sets them from CloudWatch: yesterday's hourly peaks.

SageMaker inference components support target tracking, step and scheduled scaling (not
predictive scaling). A user who sees daily peaks in CloudWatch schedules, for every hour, a
minimum copy count that covers the previous day's peak of that hour, starting early enough for
new instances to serve when the hour begins. ``HourlyPeaks`` keeps that history for the
``aws-scheduled`` policy: the peak is the largest one-minute mean of requests in flight
(``ConcurrentRequestsPerCopy`` x serving copies) in the hour, and the lead is one new instance's
cold start on the cached path, rounded up to the minute (258 s -> 300 s for the default fleet).
"""

from __future__ import annotations

import math

from config.specs import ready_times

from .protocol import ComponentView

HOUR_S = 3600
DAY_HOURS = 24
TICKS_PER_MINUTE = 6


class HourlyPeaks:
    """Hourly peaks of requests in flight, and the scheduled minimum due now (if any)."""

    def __init__(self, view: ComponentView):
        cold_s = ready_times(view.endpoint, view.model).cached
        self.lead_s = math.ceil(cold_s / 60) * 60
        self.peaks: dict[int, float] = {}  # hour index since the start -> peak in flight
        self._minute: list[float] = []

    def record(self, view: ComponentView) -> None:
        """Take the tick's datapoint (called every 10 s)."""
        values = view.metrics["ConcurrentRequestsPerCopy"].values
        per_copy = values[-1] if values else None
        self._minute.append((per_copy or 0.0) * view.serving)
        if len(self._minute) == TICKS_PER_MINUTE:
            hour = int((view.now - 1) // HOUR_S)
            mean = sum(self._minute) / TICKS_PER_MINUTE
            self.peaks[hour] = max(self.peaks.get(hour, 0.0), mean)
            self._minute.clear()

    def minimum_due(self, now_s: float, target: float) -> int | None:
        """The minimum copies a scheduled action sets now, or None when no action is due.

        An action is due ``lead_s`` before each hour that has a recorded hour a day earlier.
        """
        start = now_s + self.lead_s
        if round(start) % HOUR_S:
            return None
        yesterday = round(start) // HOUR_S - DAY_HOURS
        if yesterday not in self.peaks:
            return None
        return math.ceil(self.peaks[yesterday] / target - 1e-9)
