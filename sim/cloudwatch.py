"""CloudWatch as scaling sees it: metric datapoints that arrive late, and M-of-N alarms.

Pure and independent of the simulator's loop, so the local end-to-end demo can drive moto with
the same semantics:

* ``MetricSeries``: a metric sampled at its resolution (10 s for SageMaker's high-resolution
  ``ConcurrentRequestsPerCopy``, 60 s for standard metrics). A datapoint for the period
  ``[t, t + period)`` becomes readable at ``t + period + publish_delay_s``; alarms and handlers only
  ever see readable datapoints. ``periods`` and ``window`` aggregate the base datapoints into
  an alarm's period (each period once).
* ``evaluate``: one alarm evaluation, "M out of N" (``datapoints_to_alarm`` out of
  ``evaluation_periods``), a missing datapoint handled as the alarm's ``TreatMissingData`` says:
  ``missing`` (CloudWatch's default: a gap neither breaches nor clears, all missing is
  INSUFFICIENT_DATA), ``notBreaching`` (a gap counts as a good datapoint; every alarm of the
  fleet, ``config.alarms.TREAT_MISSING_DATA``) or ``breaching`` (a gap counts as a bad one).
* ``Alarm``: keeps the state and reports transitions. Actions differ by target, and that matters:
  a Lambda action runs only when the state changes (Amazon CloudWatch User Guide, "Using Amazon
  CloudWatch alarms", Lambda alarm actions: the function is invoked when the alarm changes
  state), while Application Auto Scaling's policies keep being invoked at every evaluation while
  the alarm stays in ALARM (Application Auto Scaling user guide, step scaling: "adjustments
  continue for further breaches until the alarm returns to OK"). ``Alarm.update`` returns the
  transition; ``Alarm.in_alarm`` is what a repeating action checks.
* ``SeriesAlarm``: an ``Alarm`` on one ``MetricSeries``, as the simulator's policies use them:
  the same evaluation of the same window, from running counts of present and breaching
  datapoints, so a tick's evaluation does not re-read its whole window.

Delays (stated, not measured by us): AWS writes that with high-resolution metrics "publishing and
the policy's reaction take another 1-2 minutes" after the 30 s of datapoints
(aws-samples/sagemaker-genai-hosting-examples, scale_down_to_zero notebook). How that splits
between publishing and reaction, and how Application Auto Scaling's reaction compares with an
alarm's Lambda action, is not documented: the simulator uses ``HIGH_RES_PUBLISH_DELAY_S`` = 30 s
for the metric and one reaction delay for every policy (``sim.simulator.DEFAULT_REACTION_S``,
``--reaction-s``), and docs/scaling-model.md shows the sensitivity to both. Standard 1-minute
metrics arrive ``STANDARD_PUBLISH_DELAY_S`` = 60 s after their minute. ``LAMBDA_REACTION_S`` =
2 s is the local demo's: how soon its alarm evaluator delivers an alarm event to the handler.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.alarms import AlarmPlan

HIGH_RES_PUBLISH_DELAY_S = 30.0
STANDARD_PUBLISH_DELAY_S = 60.0
LAMBDA_REACTION_S = 2.0


class State(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
STATISTICS = ("Average", "Sum", "Maximum", "Minimum")
# CloudWatch's TreatMissingData values the evaluator implements; "ignore" (keep the state while
# data is missing) is CloudWatch's too but nothing here uses it, so it is rejected, not guessed.
TREAT_MISSING = ("missing", "notBreaching", "breaching")


@dataclass(frozen=True)
class AlarmSpec:
    """An alarm's definition, in CloudWatch's terms."""

    name: str
    threshold: float
    comparison: str
    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    statistic: str = "Average"
    treat_missing_data: str = "missing"  # CloudWatch's default

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(
                f"alarm {self.name}: comparison {self.comparison!r}; allowed: "
                f"{', '.join(COMPARISONS)}"
            )
        if self.statistic not in STATISTICS:
            raise ValueError(
                f"alarm {self.name}: statistic {self.statistic!r}; allowed: {', '.join(STATISTICS)}"
            )
        if self.treat_missing_data not in TREAT_MISSING:
            raise ValueError(
                f"alarm {self.name}: treat_missing_data "
                f"{self.treat_missing_data!r}; allowed: {', '.join(TREAT_MISSING)}"
            )
        if not (self.period_s in (10, 20, 30) or (self.period_s > 0 and self.period_s % 60 == 0)):
            raise ValueError(
                f"alarm {self.name}: period {self.period_s} s; allowed: 10, 20, 30 "
                "or a multiple of 60"
            )
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError(
                f"alarm {self.name}: {self.datapoints_to_alarm} datapoints to alarm "
                f"out of {self.evaluation_periods}; allowed: 1..evaluation_periods"
            )

    def breaches(self, value: float) -> bool:
        return COMPARISONS[self.comparison](value, self.threshold)


def alarm_spec(plan: AlarmPlan) -> AlarmSpec:
    """The evaluator's view of one of the fleet's alarms (``config.alarms``)."""
    return AlarmSpec(
        plan.name,
        plan.threshold,
        plan.comparison,
        plan.period_s,
        plan.evaluation_periods,
        plan.datapoints,
        plan.statistic,
        plan.treat_missing_data,
    )


def evaluate(spec: AlarmSpec, datapoints: Sequence[float | None], current: State) -> State:
    """The alarm's state after one evaluation of its latest ``evaluation_periods`` datapoints.

    ALARM when at least M datapoints breach; OK when so many datapoints do not breach that M
    breaches are no longer possible; otherwise the state stays. A missing datapoint (fewer than
    N given count as missing at the start) follows ``spec.treat_missing_data``: with
    ``missing`` it neither breaches nor clears, and no datapoint at all is INSUFFICIENT_DATA;
    with ``notBreaching`` it clears; with ``breaching`` it breaches. With M = 2 of N = 3 over 8:
    [9, None, 10] is ALARM; [9, 7, None] is undecided (stays) when missing, OK when
    notBreaching, ALARM when breaching; [None, None, None] is INSUFFICIENT_DATA when missing,
    OK when notBreaching.
    """
    window = list(datapoints)[-spec.evaluation_periods :]
    present = [v for v in window if v is not None]
    breaching = _count_breaching(spec.comparison, present, spec.threshold)
    return state_from_counts(spec, len(present), breaching, current)


def state_from_counts(spec: AlarmSpec, present: int, breaching: int, current: State) -> State:
    """``evaluate``'s answer from the counts of its ``evaluation_periods`` datapoints:
    ``present`` of them exist and ``breaching`` of those breach; the rest are missing."""
    n = spec.evaluation_periods
    gaps = n - present
    clear = present - breaching
    if spec.treat_missing_data == "notBreaching":
        clear += gaps
    elif spec.treat_missing_data == "breaching":
        breaching += gaps
    elif not present:
        return State.INSUFFICIENT_DATA
    if breaching >= spec.datapoints_to_alarm:
        return State.ALARM
    if clear > n - spec.datapoints_to_alarm:
        return State.OK
    return current if current is not State.INSUFFICIENT_DATA else State.OK


def _count_breaching(comparison: str, values: list[float], threshold: float) -> int:
    """How many ``values`` breach (the evaluator's inner loop: comparisons inline, no calls)."""
    if comparison == "GreaterThanThreshold":
        return len([v for v in values if v > threshold])
    if comparison == "LessThanThreshold":
        return len([v for v in values if v < threshold])
    if comparison == "GreaterThanOrEqualToThreshold":
        return len([v for v in values if v >= threshold])
    return len([v for v in values if v <= threshold])


def aggregate(
    values: Sequence[float | None], statistic: str, weights: Sequence[float] | None = None
) -> float | None:
    """One alarm-period datapoint from the base datapoints inside it (None if none exist)."""
    present = [
        (v, 1.0 if weights is None else weights[i]) for i, v in enumerate(values) if v is not None
    ]
    if not present:
        return None
    if statistic == "Sum":
        return sum(v for v, _ in present)
    if statistic == "Maximum":
        return max(v for v, _ in present)
    if statistic == "Minimum":
        return min(v for v, _ in present)
    return sum(v * w for v, w in present) / sum(w for _, w in present)


class MetricSeries:
    """Datapoints of one metric at a fixed resolution, each readable after a publishing delay."""

    def __init__(self, name: str, resolution_s: int, publish_delay_s: float):
        if resolution_s <= 0:
            raise ValueError(f"metric {name}: resolution must be > 0 s; got {resolution_s}")
        self.name = name
        self.resolution_s = resolution_s
        self.publish_delay_s = publish_delay_s
        self.values: list[float | None] = []  # index i covers [i * res, (i + 1) * res)
        # Alarm-period datapoints aggregated so far, by (period_s, statistic) (``periods``).
        self._aggregated: dict[tuple[int, str], list[float | None]] = {}

    def record(self, value: float | None) -> None:
        """Append the datapoint of the next period (None: nothing was emitted)."""
        self.values.append(value)

    def readable_periods(self, now_s: float) -> int:
        """How many datapoints (from the first) can be read at ``now_s``."""
        n = math.floor((now_s - self.publish_delay_s) / self.resolution_s + 1e-9)
        recorded = len(self.values)
        if n < 0:
            return 0
        return n if n < recorded else recorded  # (no min/max calls: this runs every tick)

    def periods(
        self, now_s: float, period_s: int, statistic: str = "Average"
    ) -> tuple[list[float | None], int]:
        """The alarm-period datapoints (index k covers ``[k * period_s, (k + 1) * period_s)``)
        and how many of them, from the first, are readable at ``now_s``.

        Alarm periods are aligned to multiples of ``period_s``; a period counts only once all of
        its base datapoints are readable. A 60 s Average over a 10 s metric averages six values;
        each period is aggregated once, when it first becomes readable.
        """
        if period_s % self.resolution_s:
            raise ValueError(
                f"metric {self.name}: alarm period {period_s} s is not a multiple "
                f"of the metric's {self.resolution_s} s resolution"
            )
        per = period_s // self.resolution_s
        readable = self.readable_periods(now_s) // per  # alarm periods fully readable
        if per == 1:
            return self.values, readable
        # Datapoints are only ever appended, so a whole period's aggregate never changes.
        done = self._aggregated.setdefault((period_s, statistic), [])
        for k in range(len(done), readable):
            done.append(aggregate(self.values[k * per : (k + 1) * per], statistic))
        return done, readable

    def window(
        self, now_s: float, period_s: int, periods: int, statistic: str = "Average"
    ) -> list[float | None]:
        """The latest ``periods`` alarm-period datapoints readable at ``now_s``, oldest first
        (``None`` before the first)."""
        datapoints, readable = self.periods(now_s, period_s, statistic)
        out = datapoints[max(0, readable - periods) : readable]
        if len(out) < periods:
            return [None] * (periods - len(out)) + out
        return out


@dataclass
class Alarm:
    """An alarm's state over time; ``update`` evaluates and returns the new state on a change."""

    spec: AlarmSpec
    state: State = State.INSUFFICIENT_DATA
    changed_at_s: float = 0.0

    @property
    def in_alarm(self) -> bool:
        return self.state is State.ALARM

    def update(self, now_s: float, datapoints: Sequence[float | None]) -> State | None:
        return self._change(now_s, evaluate(self.spec, datapoints, self.state))

    def _change(self, now_s: float, new: State) -> State | None:
        if new is self.state:
            return None
        self.state, self.changed_at_s = new, now_s
        return new

    def due(self, now_s: float) -> bool:
        """CloudWatch evaluates an alarm once per period, at period boundaries."""
        into = now_s % self.spec.period_s
        return math.isclose(into, 0.0, abs_tol=1e-6) or math.isclose(
            into, self.spec.period_s, abs_tol=1e-6
        )


class SeriesAlarm(Alarm):
    """An ``Alarm`` on one ``MetricSeries``: ``update_at(now_s)`` is ``update(now_s,
    series.window(...))`` of the alarm's period, evaluation periods and statistic, computed from
    running counts. Each alarm-period datapoint is compared with the threshold once, when it
    becomes readable; an evaluation takes its window's present and breaching datapoints as
    differences of the running totals (``state_from_counts``), however long the window."""

    def __init__(self, spec: AlarmSpec, series: MetricSeries):
        super().__init__(spec)
        self.series = series
        # Of the first k alarm-period datapoints: how many exist, how many breach.
        self._present = [0]
        self._breaching = [0]

    def update_at(self, now_s: float) -> State | None:
        spec = self.spec
        datapoints, readable = self.series.periods(now_s, spec.period_s, spec.statistic)
        present, breaching = self._present, self._breaching
        for k in range(len(present) - 1, readable):
            value = datapoints[k]
            if value is None:
                present.append(present[-1])
                breaching.append(breaching[-1])
            else:
                present.append(present[-1] + 1)
                breaching.append(breaching[-1] + spec.breaches(value))
        first = readable - spec.evaluation_periods if readable > spec.evaluation_periods else 0
        new = state_from_counts(
            spec,
            present[readable] - present[first],
            breaching[readable] - breaching[first],
            self.state,
        )
        return self._change(now_s, new)

    def window(self, now_s: float) -> list[float | None]:
        """The datapoints an evaluation at ``now_s`` reads, oldest first."""
        spec = self.spec
        return self.series.window(now_s, spec.period_s, spec.evaluation_periods, spec.statistic)
