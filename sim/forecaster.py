"""The scheduled forecaster, simulated: what ``lambdas.control_plane.forecasting`` does on its
schedule, with the simulation's published ``Invocations`` in place of CloudWatch's.

Every ``spec.forecast_interval_s`` (the fleet's ``forecast.interval_minutes``) the project's
forecaster reads the component's per-minute ``Invocations`` that are readable by then (the
simulated metric arrives 60 s after its minute, as CloudWatch's standard metrics do), and calls
the same pure functions the Lambda calls, in the same order (``forecasting._one``):

* the predicted ready time of a new instance's copy (``forecasting.ready_time``, from the
  row's observed timings against the cold-start prior);
* the run's plan (``forecast_plan.plan``): the floor from the predicted peak over that ready
  time plus the interval and from the recent peak over the instance release cooldown, sized by
  ``forecast_plan.copies_for`` (SLO-sized, headroom, never below ``min_copies`` nor above
  ``max_copies``), and the bursts of the last ``forecast_history.RECENT_S``;
* what goes on the row (``bookkeeping.forecast_record``), and, when the floor is above the
  copies asked for, a raise to it recorded as a scale-out (``bookkeeping.decision_record``)
  with the placement ``decision.place`` predicts, as ``forecast_raise`` records it.

No history for the coming minutes, no recent burst and no recent minute: nothing is written
and nothing raised,
as in the Lambda. The history is kept as ``forecast.minute_index`` does it (one entry per
minute, added as minutes become readable), limited to ``forecast_history_days``
(``forecast_history.within_days``).
"""

from __future__ import annotations

import functools
import math
from collections import deque
from dataclasses import dataclass

from lambdas.control_plane.bookkeeping import Record, forecast_record
from lambdas.control_plane.decision import ScalingSpec
from lambdas.control_plane.forecast import DAY_S, MINUTE_S
from lambdas.control_plane.forecast_history import RECENT_S
from lambdas.control_plane.forecast_plan import copies_for, plan
from lambdas.control_plane.forecasting import ready_time
from lambdas.control_plane.state import ComponentState

from .cloudwatch import MetricSeries

INVOCATIONS_METRIC = "Invocations"


# Simulated time 0 is this instant: Monday 1970-01-05 00:00 UTC. The scenarios' weeks start on
# a Monday (``sim.traffic``, diurnal-week), and the forecaster tells weekdays from weekends by
# the calendar (``forecast.is_weekend``), so the project's clock runs on this calendar.
CALENDAR_START_S = 4 * DAY_S


@dataclass(frozen=True)
class ForecastRun:
    """One run's result: the floor, and the row's change (``bookkeeping.forecast_record``)."""

    floor: int
    record: Record


class Forecaster:
    """The forecaster of one component: its history of ``Invocations`` per minute, and a run."""

    def __init__(self, spec: ScalingSpec, invocations: MetricSeries):
        if invocations.resolution_s != MINUTE_S:
            raise ValueError(
                f"the forecaster reads Invocations per minute; got a "
                f"{invocations.resolution_s} s metric"
            )
        self.spec = spec
        self.metric = invocations
        self.interval_s = spec.forecast_interval_s
        needed = copies_for(spec)
        # The Lambda's sizing, remembered per value: the same per-minute counts recur.
        self.needed = functools.lru_cache(maxsize=4096)(needed) if needed else None
        self.by_minute: dict[int, float] = {}  # forecast.minute_index's form
        self.recent: deque[tuple[float, float]] = deque()  # the last RECENT_S
        self.taken = 0  # datapoints of the metric already in the history

    @property
    def enabled(self) -> bool:
        """Scheduled (``forecast.enabled``) and with a copy model to size with (the Lambda
        skips a component without one: ``NoCopyModel``)."""
        return bool(self.interval_s) and self.needed is not None

    def due(self, sim_now: float) -> bool:
        """The schedule fires every ``forecast_interval_s`` from the start."""
        if not self.enabled or not self.interval_s:
            return False
        return math.isclose(sim_now % self.interval_s, 0.0, abs_tol=1e-6)

    def _read(self, sim_now: float) -> None:
        """Take the minutes readable at ``sim_now`` into the history, dropping what is older
        than ``forecast_history_days`` (``within_days``) and ``RECENT_S`` (``recent``)."""
        readable = self.metric.readable_periods(sim_now)
        for i in range(self.taken, readable):
            value = self.metric.values[i]
            if value is None:
                continue
            start = CALENDAR_START_S + i * MINUTE_S
            self.by_minute[start // MINUTE_S] = float(value)
            self.recent.append((float(start), float(value)))
        self.taken = max(self.taken, readable)
        now = CALENDAR_START_S + sim_now
        oldest = (now - self.spec.forecast_history_days * DAY_S) // MINUTE_S
        while self.by_minute and next(iter(self.by_minute)) < oldest:  # minutes come in order
            del self.by_minute[next(iter(self.by_minute))]
        while self.recent and self.recent[0][0] < now - RECENT_S:
            self.recent.popleft()

    def run(self, row: ComponentState, sim_now: float, image_cached: bool) -> ForecastRun | None:
        """One scheduled run at ``sim_now`` (``forecasting._one``); None when there is no
        history for the coming minutes, no recent burst and no recent minute (nothing written,
        nothing raised)."""
        if not self.enabled or self.needed is None or not self.interval_s:
            return None
        self._read(sim_now)
        spec, now, interval = self.spec, CALENDAR_START_S + sim_now, self.interval_s
        ready_s = ready_time(spec, row, image_cached, now)
        planned = plan(self.by_minute, self.recent, now, spec, ready_s=ready_s, needed=self.needed)
        if planned is None:
            return None
        floor, starts = planned.floor, planned.bursts
        return ForecastRun(floor, forecast_record(floor, starts, now, interval))
