"""The scaler's queue: re-evaluations while an alarm stays in ALARM, and deferred reconciles.

An alarm invokes the scaler only on transitions, so every decision taken in ALARM sends the next
look to the endpoint's delay queue (``Decision.reevaluate_after_s``); when it comes due the
alarm is read again (state and datapoints) and the chain stops once it is back to OK. A record
that fails goes back to the queue through the partial batch response, and after the queue's
redrive limit to its dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from . import aws, clock, contract
from .claims import once, open_store, superseded_by
from .evaluation import evaluate
from .evaluation_types import Evaluation, Outcome
from .events import EventError, ForeignEndpoint, ReconcileRequest, Reevaluation, parse_queue_message
from .observability import bind, emit, logger, reset
from .reconcile import reconcile_one
from .settings import Component, Settings


def handle_queue(records: list[Any], cfg: Settings) -> dict[str, Any]:
    """Process a batch; failed records are returned as ``batchItemFailures``."""
    failures: list[dict[str, str]] = []
    outcomes: list[dict[str, Any]] = []
    for record in records:
        reset(cfg.endpoint)  # one record's alarm and component must not tag the next's lines
        message_id = str(record.get("messageId", ""))
        try:
            message = parse_queue_message(record.get("body"))
            if message.endpoint != cfg.endpoint:
                raise ForeignEndpoint(
                    f"message for endpoint {message.endpoint!r} reached "
                    f"{cfg.endpoint!r}'s scaler; nothing changed"
                )
            component = cfg.component(message.component)
            bind(component=component.name, event_id=f"sqs|{message_id}")
            if isinstance(message, ReconcileRequest):
                # The count is read from the table at delivery: the scaler may have moved it
                # since the reconcile was deferred.
                outcomes.append(reconcile_one(cfg, open_store(cfg), component, message.attempt))
            else:
                outcomes.append(reevaluate(cfg, component, message, message_id).as_dict())
        except EventError as exc:
            logger.error(
                "rejected queue message", extra={"error": str(exc), "message_id": message_id}
            )
            emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=cfg.endpoint)
            failures.append({"itemIdentifier": message_id})
        except Exception as exc:
            logger.exception(
                "queue message failed: will be retried",
                extra={"message_id": message_id, "error": str(exc)},
            )
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures, "outcomes": outcomes}


def reevaluate(
    cfg: Settings, component: Component, message: Reevaluation, message_id: str
) -> Outcome:
    """One re-evaluation: dropped when a newer chain superseded it or the alarm is gone."""
    bind(alarm=message.alarm_name, trigger=message.trigger.value)
    now = clock.now()
    store = open_store(cfg)
    event_id = f"sqs|{message_id}"
    with once(store, event_id if message_id else None, now) as first:
        if not first:
            return Outcome(component.name, "duplicate", "Duplicate", detail=event_id)
        live = superseded_by(store, message)
        if live is not None:
            logger.info(
                "re-evaluation superseded by a newer alarm transition",
                extra={"chain_id": message.chain_id, "live_chain_id": live},
            )
            return Outcome(component.name, "superseded", "Superseded", detail=live)
        reading = aws.read_alarm(aws.cloudwatch(), message.alarm_name, now)
        if reading is None:
            logger.warning("alarm no longer exists: re-evaluation chain ends")
            return Outcome(component.name, "stopped", "AlarmGone", detail=message.alarm_name)
        return evaluate(Evaluation.of_reevaluation(message, reading, cfg, store, component, now))
