"""The inputs of one evaluation (``Evaluation``) and what it did (``Outcome``).

``Evaluation`` is built in one place per path (``of_alarm``, ``of_reevaluation``) and builds
every message of its re-evaluation chain (``followup``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import aws
from .decision import Trigger
from .events import AlarmEvent, Reevaluation
from .settings import Component, Settings
from .state import StateStore

DEFAULT_PERIOD_S = 10


@dataclass
class Outcome:
    """What one evaluation did; returned by the handler and logged."""

    component: str
    action: str  # scaled | held | deferred | duplicate | error | stopped | superseded
    reason: str
    target_copies: int | None = None
    desired_copies: int | None = None
    reevaluate_after_s: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "extra" and v is not None}
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Evaluation:
    """Everything one evaluation needs: where it runs, what asked, and what the alarm showed."""

    cfg: Settings
    store: StateStore
    component: Component
    trigger: Trigger
    alarm_name: str
    in_alarm: bool
    datapoints: tuple[float, ...]  # the alarm window's, oldest first
    now: float
    period_s: int  # the alarm's period and statistic, carried along the chain
    stat: str
    chain_id: str = ""  # the alarm transition whose re-evaluation chain this is
    attempt: int = 0  # consecutive deferrals before this one: drives the backoff
    starts_chain: bool = False  # a transition to ALARM: its chain becomes the live one
    alarm_at: float | None = None  # that transition's state-change time (epoch seconds)

    @classmethod
    def of_alarm(
        cls,
        alarm: AlarmEvent,
        cfg: Settings,
        store: StateStore,
        component: Component,
        now: float,
        chain_id: str,
    ) -> Evaluation:
        """The evaluation of an alarm transition (its datapoints come with the event)."""
        return cls(
            cfg,
            store,
            component,
            alarm.trigger,
            alarm.alarm_name,
            alarm.in_alarm,
            alarm.datapoints,
            now,
            alarm.period_s or DEFAULT_PERIOD_S,
            alarm.stat or "Average",
            chain_id,
            starts_chain=alarm.in_alarm,
            alarm_at=state_changed_at(alarm.timestamp) if alarm.in_alarm else None,
        )

    @classmethod
    def of_reevaluation(
        cls,
        message: Reevaluation,
        reading: aws.AlarmReading,
        cfg: Settings,
        store: StateStore,
        component: Component,
        now: float,
    ) -> Evaluation:
        """The evaluation a queued re-evaluation asks for, with the alarm as it reads now."""
        return cls(
            cfg,
            store,
            component,
            message.trigger,
            message.alarm_name,
            reading.state == "ALARM",
            reading.datapoints,
            now,
            message.period_s,
            message.stat,
            message.chain_id,
            message.attempt,
        )

    def followup(self, deferred: bool = False) -> Reevaluation:
        """This chain's next re-evaluation: after a decision (attempt 0), or after a deferral
        (one more consecutive attempt, for the backoff)."""
        return Reevaluation(
            self.cfg.endpoint,
            self.component.name,
            self.trigger,
            self.alarm_name,
            self.attempt + 1 if deferred else 0,
            self.period_s,
            self.stat,
            self.chain_id,
        )


def state_changed_at(timestamp: str) -> float | None:
    """Epoch seconds of an alarm's state-change timestamp (``2026-11-28T01:00:00.000+0000``);
    None when it is not an ISO 8601 time with a zone (the metric is then left out)."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
