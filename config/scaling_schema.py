"""The scaling part of the fleet file's schema: alarms, steps, cooldowns, and the rules that
keep scale-out, scale-in and scale-from-zero from fighting each other."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from .domain import valid_alarm_period
from .fields import Check, Count, FileModel, Finite, between, one_of, problem
from .limits import ALARM_WINDOW_MAX_S, METRIC_PUBLISH_FREQUENCIES_S

AlarmPeriod = Annotated[
    int,
    Check(
        valid_alarm_period,
        lambda v: (
            f"{v} is not a period CloudWatch alarms accept; allowed: 10, 20, 30 or a multiple of 60"
        ),
        {"anyOf": [{"enum": [10, 20, 30]}, {"multipleOf": 60, "minimum": 60}]},
    ),
]


class Alarm(FileModel):
    """An alarm's evaluation: ``datapoints`` breaching of ``evaluation_periods`` x ``period_s``."""

    period_s: AlarmPeriod
    datapoints: Count
    evaluation_periods: Count

    @model_validator(mode="after")
    def _window(self) -> Self:
        window = self.period_s * self.evaluation_periods
        if window > ALARM_WINDOW_MAX_S:
            raise problem(
                f"period_s x evaluation_periods = {window} s exceeds one day "
                f"({ALARM_WINDOW_MAX_S} s), the longest window CloudWatch evaluates",
                "evaluation_periods",
            )
        if self.datapoints > self.evaluation_periods:
            raise problem(
                f"{self.datapoints} datapoints out of {self.evaluation_periods} evaluation "
                f"periods; allowed: 1 to evaluation_periods ({self.evaluation_periods})",
                "datapoints",
            )
        return self


class ScaleOutAlarm(Alarm):
    period_s: AlarmPeriod = 10
    datapoints: Count = 2
    evaluation_periods: Count = 3


class ScaleInAlarm(Alarm):
    period_s: AlarmPeriod = 60
    datapoints: Count = 10
    evaluation_periods: Count = 10


class FromZeroAlarm(Alarm):
    """On NoCapacityInvocationFailures > 0."""

    period_s: AlarmPeriod = 10
    datapoints: Count = 1
    evaluation_periods: Count = 1


class Step(FileModel):
    """Add ``add_percent`` of the serving copies (at least one) when the metric exceeds the
    scale-out threshold by ``breach`` or more, as a fraction of the threshold (0.5 = 50 % over)."""

    breach: Annotated[Finite, between(0.0)]
    add_percent: Annotated[int, between(1, 1000)]


class ScaleOut(FileModel):
    threshold: Annotated[
        Finite,
        between(0.1),
        Field(description="ConcurrentRequestsPerCopy above which copies are added"),
    ] = 4.0
    alarm: ScaleOutAlarm = ScaleOutAlarm()
    cooldown_s: Annotated[int, between(0, 3600)] = 60
    steps: Annotated[list[Step], Field(min_length=1)] = Field(
        default_factory=lambda: [
            Step(breach=0.0, add_percent=50),
            Step(breach=0.5, add_percent=100),
            Step(breach=1.0, add_percent=200),
        ]
    )
    max_step_copies: Annotated[Count, Field(description="copies one decision may add")] = 8

    @model_validator(mode="after")
    def _steps_grow(self) -> Self:
        breaches = [s.breach for s in self.steps]
        if breaches != sorted(set(breaches)) or breaches[0] != 0.0:
            raise problem(
                f"breach values {breaches} must start at 0 and strictly increase", "steps"
            )
        if [s.add_percent for s in self.steps] != sorted(s.add_percent for s in self.steps):
            raise problem("add_percent must not decrease as the breach grows", "steps")
        return self


class ScaleIn(FileModel):
    threshold: Annotated[
        Finite,
        between(0.0),
        Field(description="ConcurrentRequestsPerCopy below which copies are removed"),
    ] = 1.0
    alarm: ScaleInAlarm = ScaleInAlarm()
    cooldown_s: Annotated[int, between(0, 86_400)] = 300
    step_copies: Count = 1


class FromZero(FileModel):
    alarm: FromZeroAlarm = FromZeroAlarm()
    copies: Annotated[Count, Field(description="copies started from zero")] = 1


class SloSizing(FileModel):
    """Copies sized for the fleet's ``slo`` from the arrival rate and the copy's speed."""

    enabled: bool = True
    attainment: Annotated[
        Finite,
        between(0.5, 0.9999),
        Field(description="share of requests whose first token must come within slo.ttft_s"),
    ] = 0.99
    prompt_tokens: Annotated[
        int,
        between(1, 1_000_000),
        Field(description="a typical request's prompt, to turn token rates into times"),
    ] = 2048
    output_tokens: Annotated[
        int, between(1, 1_000_000), Field(description="a typical request's output tokens")
    ] = 28


class Lookahead(FileModel):
    """Scale-out sized for the demand expected when the new copies serve."""

    enabled: bool = True
    max_growth: Annotated[
        Finite,
        between(1.0, 10.0),
        Field(description="the projection never exceeds this multiple of the latest datapoint"),
    ] = 2.0


class Surge(FileModel):
    """A second scale-out alarm: one datapoint at ``multiple`` x the scale-out threshold."""

    enabled: bool = True
    multiple: Annotated[
        Finite,
        between(1.1, 100.0),
        Field(description="of scale_out.threshold; one datapoint above it starts a scale-out"),
    ] = 3.0


class Forecast(FileModel):
    """The scheduled forecaster: raises the copy count ahead of a recurring peak."""

    enabled: bool = True
    interval_minutes: Annotated[
        int, between(1, 60), Field(description="how often the forecaster runs")
    ] = 5
    history_days: Annotated[
        int,
        between(1, 14),
        Field(description="days of 1-minute history read (CloudWatch keeps them 15 days)"),
    ] = 14


class BurstHold(FileModel):
    """Scale-in holds through a lull that recent bursts say ends within a cold start."""

    enabled: bool = True
    min_probability: Annotated[
        Finite,
        between(0.05, 1.0),
        Field(description="chance of a burst within a cold start at which copies are held"),
    ] = 0.5


class Headroom(FileModel):
    """Spare copies above the demand-sized fleet, as copies or as a GPU-hour budget."""

    copies: Annotated[int, between(0, 1000)] = 0
    percent: Annotated[
        Finite, between(0.0, 1000.0), Field(description="of the demand-sized copies, rounded down")
    ] = 0.0


class Scaling(FileModel):
    metric_publish_frequency_s: Annotated[
        int, one_of(METRIC_PUBLISH_FREQUENCIES_S, "is not a publish frequency SageMaker offers")
    ] = 10
    scale_out: ScaleOut = ScaleOut()
    scale_in: ScaleIn = ScaleIn()
    from_zero: FromZero = FromZero()
    slo_sizing: SloSizing = SloSizing()
    lookahead: Lookahead = Lookahead()
    surge: Surge = Surge()
    forecast: Forecast = Forecast()
    burst_hold: BurstHold = BurstHold()
    headroom: Headroom = Headroom()

    @model_validator(mode="after")
    def _directions_agree(self) -> Self:
        frequency = self.metric_publish_frequency_s
        out, in_ = self.scale_out, self.scale_in
        if out.alarm.period_s < frequency:
            raise problem(
                f"{out.alarm.period_s} is shorter than metric_publish_frequency_s "
                f"({frequency}): most datapoints would be missing; allowed: >= {frequency}",
                *("scale_out", "alarm", "period_s"),
            )
        if in_.threshold >= out.threshold:
            raise problem(
                f"{in_.threshold} must be below the scale-out threshold ({out.threshold}) or "
                "the two alarms fight",
                *("scale_in", "threshold"),
            )
        out_window = out.alarm.period_s * out.alarm.evaluation_periods
        in_window = in_.alarm.period_s * in_.alarm.evaluation_periods
        if in_window <= out_window:
            raise problem(
                f"its window ({in_window} s) must be longer than scale-out's ({out_window} s): "
                "scale-in is the slower direction",
                *("scale_in", "alarm"),
            )
        # Scale-in and from-zero read the same published metrics: a shorter period leaves most
        # of their datapoints missing too (scale-in then never has its full window).
        for key, alarm in (("scale_in", in_.alarm), ("from_zero", self.from_zero.alarm)):
            if alarm.period_s < frequency:
                raise problem(
                    f"{alarm.period_s} is shorter than metric_publish_frequency_s ({frequency}): "
                    f"most {key} datapoints would be missing; allowed: >= {frequency}",
                    *(key, "alarm", "period_s"),
                )
        return self
