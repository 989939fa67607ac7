"""Cleanup: when an endpoint goes away, its control-plane state goes with it.

Events (handler ``control_plane.cleanup.handler``): ``SageMaker Endpoint State Change`` with
status ``DELETING``, CloudTrail ``DeleteEndpoint``, and the stack's ``Cleanup`` custom resource
(Provider framework; acts on ``Delete``, so ``cdk destroy`` or removing the endpoint from the
fleet file cleans up even without a trail). It leaves the endpoint's tombstone (``DELETED``,
with a TTL), then deletes every other row of the endpoint's partition and purges its
re-evaluation queue (pending re-evaluations are all the control plane creates besides rows).
The tombstone comes first: every write that could create a row checks it in the same
transaction, so a late writer (a tracker poll, an in-flight re-evaluation) cannot put rows back
after the purge (``state.py``). The custom resource's Create (a new stack for the endpoint name)
removes a tombstone a previous one left. Idempotent: a second run finds nothing to delete. It
only ever builds keys in its own endpoint's partition, and IAM's ``dynamodb:LeadingKeys``
enforces the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import aws, clock, contract
from .events import (
    ApiCallEvent,
    EndpointStateEvent,
    EventError,
    ForeignEndpoint,
    ScheduledEvent,
    is_custom_resource_event,
    parse_custom_resource,
    parse_eventbridge,
)
from .observability import bind, logger
from .settings import Settings, settings
from .state import StateStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    cfg = settings()
    bind(endpoint=cfg.endpoint)
    if is_custom_resource_event(event):
        resource = parse_custom_resource(event)
        _check(resource.endpoint, cfg, "Cleanup custom resource")
        physical_id = resource.physical_id or f"cleanup-{cfg.endpoint}"
        if resource.request_type == "Create":
            # A new stack for this endpoint name, created before its endpoint: start fresh.
            cleared = _store(cfg).clear_tombstone(None)
            logger.info("cleanup resource created", extra={"tombstone_cleared": cleared})
        if resource.request_type != "Delete":
            return {"PhysicalResourceId": physical_id, "Data": {"RowsDeleted": "0"}}
        done = purge(cfg, clock.now())
        return {
            "PhysicalResourceId": physical_id,
            "Data": {"RowsDeleted": str(done["rows_deleted"]), "Queue": done["queue"]},
        }
    parsed = parse_eventbridge(event, contract.ENDPOINT_DELETE_CALLS)
    bind(event_id=parsed.event_id)
    if isinstance(parsed, ScheduledEvent):
        raise EventError(
            "cleanup acts on endpoint deletion only: a SageMaker Endpoint State "
            "Change, a CloudTrail DeleteEndpoint or the Cleanup custom resource"
        )
    if isinstance(parsed, EndpointStateEvent):
        _check(parsed.endpoint, cfg, "endpoint state change")
        if parsed.status.upper() != "DELETING":
            return {"action": "ignored", "status": parsed.status}
        return purge(cfg, parsed.time)
    assert isinstance(parsed, ApiCallEvent)
    _check(parsed.endpoint, cfg, "DeleteEndpoint call")
    if parsed.error_code:
        return {"action": "ignored", "error_code": parsed.error_code}
    return purge(cfg, parsed.time)


def _check(endpoint: str | None, cfg: Settings, what: str) -> None:
    if endpoint != cfg.endpoint:
        raise ForeignEndpoint(
            f"{what} for endpoint {endpoint!r} reached {cfg.endpoint!r}'s cleanup; nothing changed"
        )


def _store(cfg: Settings) -> StateStore:
    return StateStore(aws.dynamodb(), cfg.table_name, cfg.endpoint, cfg.history_ttl_days)


def purge(cfg: Settings, deleted_at: float | None) -> dict[str, Any]:
    """Leave the tombstone, then delete this endpoint's rows and pending re-evaluations; safe
    to repeat. ``deleted_at``: when the deletion happened (the event's time; now if unknown),
    so that a retried event arriving after a new endpoint of the name does not block it."""
    store = _store(cfg)
    store.mark_deleted(clock.now() if deleted_at is None else deleted_at)
    queue = aws.purge_queue(aws.sqs(), cfg.queue_url)
    rows = store.purge()
    logger.info("endpoint state purged", extra={"rows_deleted": rows, "queue": queue})
    return {"action": "purged", "rows_deleted": rows, "queue": queue}
