"""The scaler's Lambda handler: alarm → decide → UpdateInferenceComponentRuntimeConfig → record.

Three kinds of event arrive (handler ``control_plane.scaler.handler``), each handled in its own
module:

* a CloudWatch alarm state change (the alarm invokes the function directly, on transitions):
  ``alarms``;
* re-evaluations from the endpoint's delay queue: while an alarm stays in ALARM it does not
  invoke again, so every decision taken in ALARM schedules the next look after its cooldown
  (``Decision.reevaluate_after_s``), and the chain stops when the alarm is back to OK:
  ``reevaluation``;
* the ``Reconcile`` custom resource, run after each deploy: a CloudFormation update sets the
  copy count from the template, so copies the scaler added would silently vanish. It restores
  the count the scaler last set (``scaler_copies`` in the table), clamped to the new limits:
  ``reconcile``.

Alarms and re-evaluations run the same evaluation (``evaluation``: load, decide, commit, apply
or undo, with its failure rules); ``decision.decide`` is the pure rule it applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .alarms import handle_alarm
from .events import (
    EventError,
    is_alarm_event,
    is_custom_resource_event,
    is_sqs_event,
    parse_alarm_event,
    parse_custom_resource,
)
from .observability import bind, logger
from .reconcile import handle_reconcile
from .reevaluation import handle_queue
from .settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point: dispatch by event kind; refuse what is not this endpoint's."""
    cfg = settings()
    bind(endpoint=cfg.endpoint)
    if is_alarm_event(event):
        return handle_alarm(parse_alarm_event(event), cfg).as_dict()
    if is_sqs_event(event):
        return handle_queue(event["Records"], cfg)
    if is_custom_resource_event(event):
        return handle_reconcile(parse_custom_resource(event), cfg)
    raise EventError(
        "the scaler accepts CloudWatch alarm events (source 'aws.cloudwatch' with "
        "alarmData), SQS records of its re-evaluation queue, or the Reconcile "
        f"custom resource (RequestType); got {_describe(event)}"
    )


def _describe(event: Any) -> str:
    if isinstance(event, dict):
        return f"an object with keys {sorted(map(str, event))[:8]}"
    return f"a {type(event).__name__}"
