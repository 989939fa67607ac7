"""The scaler's messages to itself: re-evaluations and deferred reconciles on its delay queue."""

from __future__ import annotations

from . import aws, contract
from .events import ReconcileRequest, Reevaluation
from .observability import emit, logger
from .settings import Settings

BUSY_RETRY_S = 15  # a copy-count update usually leaves Updating within a minute
THROTTLE_BASE_S = 5  # backoff after throttling: 5, 10, 20, ... s, at most the SQS maximum
CAPACITY_RETRY_S = aws.MAX_SQS_DELAY_S  # limits do not clear in seconds


def backoff_s(base_s: int, attempt: int) -> int:
    """``base_s`` doubled per consecutive deferral, cut to the longest delay SQS allows."""
    return int(min(aws.MAX_SQS_DELAY_S, base_s * 2**attempt))


def schedule(
    cfg: Settings, message: Reevaluation | ReconcileRequest, delay_s: int | None
) -> int | None:
    """Send ``message`` to arrive after ``delay_s``; the delay used, or ``None`` when nothing
    was sent (no delay asked for, or the queue refused: counted in ``ScalingErrors``)."""
    if delay_s is None:
        return None
    try:
        return aws.send_delayed(aws.sqs(), cfg.queue_url, message.to_body(), delay_s)
    except Exception as exc:
        # Losing the follow-up is survivable: the alarm's next transition starts a new chain.
        logger.error("could not schedule re-evaluation", extra={"error": str(exc)})
        emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=cfg.endpoint, component=message.component)
        return None
