"""An alarm transition: claim it once, start its re-evaluation chain, evaluate.

CloudWatch invokes the scaler on every state change of its alarms, asynchronously (Lambda
retries a failure twice). The transition's id (alarm, new state, timestamp) is claimed so that
a redelivery does nothing; a transition to ALARM becomes the live re-evaluation chain of its
(component, trigger) once the component is seen to exist (``evaluation``).
"""

from __future__ import annotations

from . import clock
from .claims import once, open_store
from .evaluation import evaluate
from .evaluation_types import Evaluation, Outcome
from .events import AlarmEvent
from .observability import bind, logger
from .settings import Settings


def handle_alarm(alarm: AlarmEvent, cfg: Settings) -> Outcome:
    bind(
        alarm=alarm.alarm_name,
        component=alarm.component,
        trigger=alarm.trigger.value,
        event_id=alarm.event_id,
    )
    component = cfg.component(alarm.component)  # UnknownComponent before anything is read
    now = clock.now()
    store = open_store(cfg)
    with once(store, alarm.event_id, now) as first:
        if not first:
            logger.info("duplicate alarm event: already handled", extra={"state": alarm.state})
            return Outcome(component.name, "duplicate", "Duplicate", detail=alarm.event_id)
        logger.info(
            "alarm transition",
            extra={
                "state": alarm.state,
                "previous_state": alarm.previous_state,
                "datapoints": list(alarm.datapoints),
            },
        )
        chain_id = alarm.event_id if alarm.in_alarm else ""
        return evaluate(Evaluation.of_alarm(alarm, cfg, store, component, now, chain_id))
