"""What the scaler writes down about a decision: the ``DECISION#`` and ``ERROR#`` history rows
and the structured ``decision`` log line. A row that cannot be written is logged and skipped:
history is for people and dashboards, never a reason to fail a scaling action."""

from __future__ import annotations

from typing import Any

from . import aws
from .decision import Decision, History, Snapshot
from .observability import logger
from .state import StateStore, StateUnavailable


def record_decision(
    store: StateStore,
    now: float,
    component: str,
    decision: Decision,
    snapshot: Snapshot,
    action: str,
) -> None:
    """A ``DECISION#`` row: what was decided, why, and from which inputs."""
    try:
        store.put_history(
            "DECISION",
            now,
            component,
            {
                "action": action,
                "reason": decision.reason.value,
                "valid": decision.valid,
                "target_copies": decision.target_copies,
                "desired_copies": decision.desired_copies,
                "current_copies": snapshot.current_copies,
                "trigger": snapshot.trigger.value,
                "in_alarm": snapshot.alarm_in_alarm,
                "concurrency_per_copy": snapshot.concurrency_per_copy,
                "predicted_ready_s": decision.predicted_ready_s,
                "detail": decision.detail[:500],
            },
        )
    except StateUnavailable:
        logger.warning("decision not recorded: table unavailable")


def record_error(
    store: StateStore, now: float, component: str, code: str, message: str, decision: Decision
) -> None:
    """An ``ERROR#`` row: a failure an operator should see (limits, capacity)."""
    values: dict[str, Any] = {
        "code": code,
        "message": message[:1000],
        "target_copies": decision.target_copies,
        "desired_copies": decision.desired_copies,
    }
    try:
        store.put_history("ERROR", now, component, values)
    except StateUnavailable:
        logger.warning("could not record the error row")


def log_decision(
    decision: Decision, snapshot: Snapshot, history: History, observed: aws.ComponentObservation
) -> None:
    """The ``decision`` log line, with every input the decision read."""
    logger.info(
        "decision",
        extra={
            "reason": decision.reason.value,
            "valid": decision.valid,
            "target_copies": decision.target_copies,
            "desired_copies": decision.desired_copies,
            "detail": decision.detail,
            "predicted_ready_s": decision.predicted_ready_s,
            "inputs": {
                "concurrency_per_copy": snapshot.concurrency_per_copy,
                "datapoints": snapshot.datapoints,
                "current_copies": snapshot.current_copies,
                "instances": snapshot.instances,
                "free_copy_slots": snapshot.free_copy_slots,
                "image_cached": snapshot.image_cached,
                "no_capacity_failures": snapshot.no_capacity_failures,
                "status": observed.status,
                "last_scale_out_at": history.last_scale_out_at,
                "last_scale_in_at": history.last_scale_in_at,
                "history_complete": history.complete,
            },
        },
    )
