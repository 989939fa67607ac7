"""The ``project`` policy: this project's control plane, fed what its Lambdas would read."""

from __future__ import annotations

import math
from functools import partial

from config.alarms import alarm_plans
from config.specs import scaling_spec
from lambdas.control_plane.bookkeeping import (
    apply_record,
    apply_timing,
    decision_record,
    history_from,
    time_scale_out,
)
from lambdas.control_plane.decision import (
    Decision,
    Snapshot,
    Trigger,
    decide,
    free_slots,
    raise_to,
    snapshot,
)
from lambdas.control_plane.state import ComponentState

from .cloudwatch import SeriesAlarm, State, alarm_spec
from .forecaster import CALENDAR_START_S, INVOCATIONS_METRIC, Forecaster
from .protocol import ComponentView
from .thresholds import with_thresholds

# The cache tracker's polling schedule (one minute, stacks/events.py): copies becoming ready
# produce no event, so the project sees a scale-out finish at the next poll.
TRACKER_POLL_S = 60


class Project:
    """This project's control plane, fed what its Lambdas would read.

    * The fleet's alarms (``config.alarms``: scale-out, surge, scale-in, from-zero) invoke the
      scaler on transitions to ALARM, ``reaction_s`` later; it calls ``decide`` with the alarm
      window's datapoints and re-evaluates after ``reevaluate_after_s`` while the alarm stays
      in ALARM (the real handler's delay queue). The scaler reads no ``Invocations``, so the
      snapshot carries no arrival rate (``decide`` reads it from the concurrency by Little's
      law).
    * The cache tracker polls every ``TRACKER_POLL_S`` and times a pending scale-out once its
      copies serve (``bookkeeping.time_scale_out``): the observed ready times by path.
    * The forecaster runs on its schedule (``sim.forecaster``) and raises the copy count to its
      floor, ``reaction_s`` after its run, as every policy's capacity call is delayed.

    Every applied decision and forecast goes on the component's row by the scaler's own
    bookkeeping functions, and ``History`` comes back from it. The project's clock is the
    calendar (``sim.forecaster.CALENDAR_START_S`` plus simulated time).
    """

    name = "project"
    container_cache = True
    data_cache = True

    def __init__(self, threshold: float | None = None):
        self.threshold_knob = threshold

    def attach(self, view: ComponentView) -> None:
        model = view.model
        if self.threshold_knob is not None:
            model = with_thresholds(model, self.threshold_knob)
        self.spec = scaling_spec(view.endpoint, model)
        plans = alarm_plans(model)
        self.alarms = {p.trigger: SeriesAlarm(alarm_spec(p), view.metrics[p.metric]) for p in plans}
        # The component's row as the scaler's table would hold it: each applied decision's
        # record goes in, and History comes out, by the scaler's own bookkeeping functions.
        self.row = ComponentState(self.spec.component)
        self.forecaster = Forecaster(self.spec, view.metrics[INVOCATIONS_METRIC])
        self.decisions: list[tuple[float, str, int, int]] = []

    @staticmethod
    def clock(view: ComponentView) -> float:
        return CALENDAR_START_S + view.now

    def on_tick(self, view: ComponentView) -> None:
        now = view.now
        if math.isclose(now % TRACKER_POLL_S, 0.0, abs_tol=1e-6):
            self._track(view)
        if self.forecaster.due(now):
            self._forecast(view)
        for trigger, alarm in self.alarms.items():
            if alarm.due(now) and alarm.update_at(now) is State.ALARM:
                # A Lambda alarm action runs on every transition to ALARM, even while an
                # earlier re-evaluation chain is still queued: the chains overlap, as they do in
                # AWS. Transitions to OK invoke the real scaler too, which only answers
                # AlarmNotInAlarm; they change nothing, so they are not simulated.
                view.schedule(now + view.reaction_s, partial(self._invoke, view, trigger))

    def _track(self, view: ComponentView) -> None:
        """The cache tracker's poll: a pending scale-out whose copies serve is timed."""
        now = self.clock(view)
        timed = time_scale_out(
            self.row, view.serving, view.instance_count(), view.image_cached, now
        )
        if timed is not None:
            self.row = apply_timing(self.row, timed, now)

    def _forecast(self, view: ComponentView) -> None:
        """The forecaster's scheduled run: its floor and burst starts on the row, and a raise
        to the floor ``reaction_s`` later if fewer copies are asked for."""
        run = self.forecaster.run(self.row, view.now, view.image_cached)
        if run is None:
            return
        self.row = apply_record(self.row, run.record)
        if run.floor > view.desired:
            view.schedule(view.now + view.reaction_s, partial(self._raise, view, run.floor))

    def _raise(self, view: ComponentView, floor: int) -> None:
        if view.desired >= floor:  # already asked for (the Lambda's ``Covered``)
            return
        now = self.clock(view)
        seen = self._observe(view, Trigger.SCALE_OUT, [], True)
        decision = raise_to(floor, seen, self.spec, history_from(self.row))
        self._apply(view, decision, seen, now, "Forecast")

    def _observe(
        self, view: ComponentView, trigger: Trigger, window: list[float], in_alarm: bool
    ) -> Snapshot:
        """What the scaler would read: the alarm window's datapoints, as the Lambda gets them,
        and free slots computed as the scaler computes them (from the instance count and every
        component's desired copies, not from where copies really sit)."""
        instances = view.instance_count()
        return snapshot(
            trigger,
            in_alarm,
            window,
            view.desired,
            view.serving,
            free_copy_slots=free_slots(self.spec, instances, view.desired, view.siblings()),
            instances=instances,
            image_cached=view.image_cached,
        )

    def _snapshot(self, view: ComponentView, trigger: Trigger) -> Snapshot:
        alarm = self.alarms[trigger]
        window = alarm.window(view.now)
        return self._observe(view, trigger, [v for v in window if v is not None], alarm.in_alarm)

    def _apply(
        self, view: ComponentView, decision: Decision, seen: Snapshot, now: float, why: str
    ) -> None:
        self.decisions.append((now, why, decision.desired_copies, decision.target_copies))
        if decision.changes:
            view.set_desired(decision.target_copies, f"project: {why}")
            self.row = apply_record(self.row, decision_record(decision, seen, now))

    def _invoke(self, view: ComponentView, trigger: Trigger) -> None:
        now = self.clock(view)
        observed = self._snapshot(view, trigger)
        decision = decide(observed, self.spec, history_from(self.row), now)
        self._apply(view, decision, observed, now, decision.reason.value)
        if decision.reevaluate_after_s and self.alarms[trigger].in_alarm:
            view.schedule(
                view.now + decision.reevaluate_after_s, partial(self._invoke, view, trigger)
            )
