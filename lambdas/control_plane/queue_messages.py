"""The messages of the scaler's own SQS queue: re-evaluations and deferred reconciles.

One strict parse (``parse_queue_message``) for every message: a bounded JSON body, known fields
only, and a re-evaluation's ``alarm_name`` must be the alarm of the component and trigger it
claims.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from . import contract
from .decision import Trigger
from .event_fields import (
    NAME_MAX_CHARS,
    EventError,
    bounded_json,
    count_at,
    metric_period,
    metric_stat,
    name_at,
    show,
    value_at,
)

# The scaler's own messages are about 300 characters; anything far longer is not one of them.
QUEUE_BODY_MAX_CHARS = 4096
# A deferral counter (one more per deferral, every 5 s or more): far past any real chain, and
# bounded because the backoff computes 2 ** attempt.
MAX_ATTEMPT = 1_000_000
MAX_COPIES = 10_000
CHAIN_ID_MAX_CHARS = 1024  # "alarm|<name>|<state>|<timestamp>"


@dataclass(frozen=True)
class Reevaluation:
    """Look again at ``component`` while its alarm may still be in ALARM."""

    endpoint: str
    component: str
    trigger: Trigger
    alarm_name: str
    attempt: int  # consecutive deferrals (busy, throttled): drives the backoff
    period_s: int
    stat: str
    # The alarm transition that started this chain; a newer transition supersedes it.
    chain_id: str = ""

    def to_body(self) -> str:
        body = asdict(self)
        body["trigger"] = self.trigger.value
        body["kind"] = "reevaluate"
        return json.dumps(body, sort_keys=True)


def parse_reevaluation(body: Any) -> Reevaluation:
    """A re-evaluation message body (see ``parse_queue_message``)."""
    message = parse_queue_message(body)
    if not isinstance(message, Reevaluation):
        raise EventError("SQS message body is a reconcile, not a re-evaluation")
    return message


def _reevaluation(decoded: Mapping[str, Any]) -> Reevaluation:
    _only_known(decoded, Reevaluation, "re-evaluation")
    trigger_raw = value_at(decoded, "trigger", str)
    try:
        trigger = Trigger(trigger_raw)
    except ValueError:
        allowed = [t.value for t in Trigger]
        raise EventError(f"re-evaluation trigger {show(trigger_raw)} not in {allowed}") from None
    component = name_at(decoded, "component")
    alarm_name = name_at(decoded, "alarm_name")
    try:
        alarm_component, alarm_trigger = contract.parse_alarm_name(alarm_name)
    except ValueError as exc:
        raise EventError(f"re-evaluation alarm_name: {exc}") from None
    if (alarm_component, alarm_trigger) != (component, trigger):
        raise EventError(
            f"re-evaluation alarm_name {show(alarm_name)} is not component {show(component)}'s "
            f"{trigger.value} alarm; allowed: {show(contract.alarm_name(component, trigger))}"
        )
    chain_id = decoded.get("chain_id", "")
    if not isinstance(chain_id, str) or len(chain_id) > CHAIN_ID_MAX_CHARS:
        raise EventError(
            f"re-evaluation chain_id must be a string of at most {CHAIN_ID_MAX_CHARS} chars"
        )
    return Reevaluation(
        name_at(decoded, "endpoint"),
        component,
        trigger,
        alarm_name,
        count_at(decoded, "attempt", MAX_ATTEMPT),
        metric_period(decoded.get("period_s"), "re-evaluation period_s"),
        metric_stat(decoded.get("stat"), "re-evaluation stat"),
        chain_id,
    )


def _only_known(decoded: Mapping[str, Any], kind: type, label: str) -> None:
    allowed = {f.name for f in fields(kind)} | {"kind"}
    unknown = sorted(show(k) for k in decoded if k not in allowed)
    if unknown:
        raise EventError(
            f"{label} message has unknown fields {', '.join(unknown[:5])}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


@dataclass(frozen=True)
class ReconcileRequest:
    """Restore ``component`` to ``copies`` once it is no longer busy (after a redeploy)."""

    endpoint: str
    component: str
    copies: int
    attempt: int

    def to_body(self) -> str:
        return json.dumps({**asdict(self), "kind": "reconcile"}, sort_keys=True)


QueueMessage = Reevaluation | ReconcileRequest


def parse_queue_message(body: Any) -> QueueMessage:
    """A message of the scaler's queue: a re-evaluation or a deferred reconcile."""
    decoded = bounded_json(body, "SQS message body", QUEUE_BODY_MAX_CHARS)
    kind = decoded.get("kind") if isinstance(decoded, dict) else None
    if kind == "reconcile":
        _only_known(decoded, ReconcileRequest, "reconcile")
        return ReconcileRequest(
            name_at(decoded, "endpoint"),
            name_at(decoded, "component"),
            count_at(decoded, "copies", MAX_COPIES),
            count_at(decoded, "attempt", MAX_ATTEMPT),
        )
    if kind == "reevaluate":
        return _reevaluation(decoded)
    raise EventError(
        "SQS message body must be JSON with kind 'reevaluate' (endpoint, "
        "component, trigger, alarm_name, attempt, period_s, stat, chain_id) or "
        "'reconcile' (endpoint, component, copies, attempt)"
    )


def is_sqs_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, Mapping) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(
            isinstance(r, Mapping)
            and r.get("eventSource") == "aws:sqs"
            and isinstance(r.get("messageId"), str)
            and 0 < len(r["messageId"]) <= NAME_MAX_CHARS
            for r in records
        )
    )
