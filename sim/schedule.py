"""Scheduled actions as a careful user sets them from CloudWatch: weekday and weekend schedules.

SageMaker inference components support target tracking, step and scheduled scaling (not
predictive scaling). Application Auto Scaling's ``PutScheduledAction`` accepts the scalable
dimension ``sagemaker:inference-component:DesiredCopyCount`` and a ``Schedule`` of
``cron(fields)`` with six fields, [Minutes] [Hours] [Day_of_Month] [Month] [Day_of_Week]
[Year], in UTC unless a ``Timezone`` is given (botocore's application-autoscaling 2016-02-06
service model; Application Auto Scaling User Guide, "Schedule recurring scaling actions using
cron expressions"). So one action can recur on weekdays only, ``cron(55 8 ? * MON-FRI *)``, and
another at weekends, ``cron(55 8 ? * SAT,SUN *)``.

A user who sees daily peaks in CloudWatch, and that weekends are quieter than weekdays,
schedules for every hour a minimum copy count that covers the peak of that hour on the most
recent day of the same kind: for a weekday hour, the most recent weekday (Friday's for a Monday);
for a weekend hour, the most recent weekend day (Saturday's for a Sunday, the last Sunday's for a
Saturday). With no such day seen yet, nothing is scheduled for that hour. Each minimum starts
early enough for new instances to serve when the hour begins. ``HourlyPeaks`` keeps that history
for the ``aws-scheduled`` policy: the peak is the largest one-minute mean of requests in flight
(``ConcurrentRequestsPerCopy`` x serving copies) in the hour, and the lead is one new instance's
cold start on the cached path, rounded up to the minute (258 s -> 300 s for the default fleet).
The days of the week are the simulation's calendar (``sim.forecaster.CALENDAR_START_S``: time 0
is a Monday 00:00 UTC, as the scenarios' weeks start) read by ``forecast.is_weekend``.
"""

from __future__ import annotations

import math

from config.specs import ready_times
from lambdas.control_plane.forecast import is_weekend

from .forecaster import CALENDAR_START_S
from .protocol import ComponentView

HOUR_S = 3600
DAY_HOURS = 24
DAY_S = HOUR_S * DAY_HOURS
TICKS_PER_MINUTE = 6


def weekend_day(day: int) -> bool:
    """Whether the simulation's ``day`` (0 = the first, a Monday) is a Saturday or Sunday."""
    return is_weekend(CALENDAR_START_S + day * DAY_S)


def same_kind_day_before(day: int) -> int:
    """The most recent day before ``day`` that is a weekday if it is one, a weekend day if not
    (negative when the simulation has not reached one yet)."""
    weekend = weekend_day(day)
    earlier = day - 1
    while weekend_day(earlier) != weekend:
        earlier -= 1
    return earlier


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

        An action is due ``lead_s`` before each hour whose hour of the day is recorded on the
        most recent earlier day of the same kind (weekday or weekend day).
        """
        start = now_s + self.lead_s
        if round(start) % HOUR_S:
            return None
        day, hour_of_day = divmod(round(start) // HOUR_S, DAY_HOURS)
        source = same_kind_day_before(day) * DAY_HOURS + hour_of_day
        if source not in self.peaks:
            return None
        return math.ceil(self.peaks[source] / target - 1e-9)
