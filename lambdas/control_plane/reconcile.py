"""The ``Reconcile`` custom resource: put back copy counts a redeploy reset.

A CloudFormation update of an inference component applies the template's ``CopyCount``, so
copies the scaler added would silently vanish. The stack runs this resource after the
components on every deploy; it restores the count the scaler last set (``scaler_copies``),
clamped to the new limits. A component still busy is retried through the scaler's queue.
"""

from __future__ import annotations

import contextlib
from typing import Any

from . import aws, clock, contract
from .claims import open_store
from .decision import clamp
from .evaluation import undo
from .events import CustomResourceEvent, ForeignEndpoint, ReconcileRequest
from .followups import BUSY_RETRY_S, backoff_s, schedule
from .observability import emit, logger
from .settings import Component, Settings
from .state import Conflict, StateStore, StateUnavailable


def handle_reconcile(event: CustomResourceEvent, cfg: Settings) -> dict[str, Any]:
    """Provider-framework ``onEvent``: restore copy counts a redeploy reset; Delete does nothing.

    A redeploy is detected per component as SageMaker's ``DesiredCopyCount`` below the
    ``scaler_copies`` the scaler last set. The count goes back to ``scaler_copies`` clamped to
    the (possibly new) ``[min_copies, max_copies]``; scale-in stays the scaler's job, so the
    reset never removes capacity the load still needs.
    """
    physical_id = event.physical_id or f"reconcile-{cfg.endpoint}"
    if event.endpoint != cfg.endpoint:
        raise ForeignEndpoint(
            f"Reconcile for endpoint {event.endpoint!r} reached "
            f"{cfg.endpoint!r}'s scaler; nothing changed"
        )
    if event.request_type == "Delete":
        # Never fail a stack delete or rollback, whatever the properties name.
        return {"PhysicalResourceId": physical_id, "Data": {"Restored": ""}}
    names = event.components or tuple(cfg.components)
    unknown = [n for n in names if n not in cfg.components]
    if unknown:
        # A component removed in the same deploy (or a rollback to older properties): there is
        # nothing of it to restore, and failing here would fail the deploy or its rollback.
        logger.warning(
            "Reconcile names components this scaler does not have: skipped",
            extra={"unknown": unknown, "known": sorted(cfg.components)},
        )
    components = [cfg.component(n) for n in names if n in cfg.components]
    store = open_store(cfg)
    results = [reconcile_one(cfg, store, c, 0) for c in components]
    restored = [
        f"{r['component']}={r['target_copies']}" for r in results if r["action"] == "restored"
    ]
    deferred = [r["component"] for r in results if r["action"] == "deferred"]
    logger.info("reconciled", extra={"restored": restored, "deferred": deferred})
    return {
        "PhysicalResourceId": physical_id,
        "Data": {"Restored": ",".join(restored), "Deferred": ",".join(deferred)},
    }


def _defer(cfg: Settings, component: Component, target: int, attempt: int) -> dict[str, Any]:
    delay = backoff_s(BUSY_RETRY_S, attempt)
    schedule(cfg, ReconcileRequest(cfg.endpoint, component.name, target, attempt + 1), delay)
    return {"component": component.name, "action": "deferred", "retry_in_s": delay}


def reconcile_one(
    cfg: Settings, store: StateStore, component: Component, attempt: int
) -> dict[str, Any]:
    """Restore ``component`` to the count recorded in the table now (``attempt``: deferrals
    so far, for the backoff)."""
    sagemaker = aws.sagemaker()
    now = clock.now()
    try:
        state = store.load_component(component.name)
    except StateUnavailable as exc:
        logger.error("cannot reconcile without the table", extra={"error": str(exc)})
        return {"component": component.name, "action": "unavailable"}
    if state.scaler_copies is None:
        return {"component": component.name, "action": "nothing-recorded"}
    target = clamp(state.scaler_copies, component.spec)
    try:
        observed = aws.describe_component(sagemaker, component.name)
    except aws.NotFound:
        # Not created yet, or removed: nothing to restore, and no reason to fail the deploy.
        return {"component": component.name, "action": "absent"}
    except aws.Throttled as exc:
        logger.warning("reconcile deferred: describe throttled", extra={"error": exc.code})
        return _defer(cfg, component, target, attempt)
    if observed.desired_copies >= target:
        return {
            "component": component.name,
            "action": "in-step",
            "desired_copies": observed.desired_copies,
        }
    if observed.busy:
        return _defer(cfg, component, target, attempt)
    try:
        version = store.commit_component(
            component.name, state.version, {"scaler_copies": target, "scaler_set_at": now}
        )
    except Conflict:
        return {"component": component.name, "action": "superseded"}
    try:
        aws.set_copy_count(sagemaker, component.name, target)
    except (aws.Busy, aws.Throttled) as exc:
        undo(store, state, version)
        logger.warning("reconcile update deferred", extra={"error": exc.code})
        return _defer(cfg, component, target, attempt)
    except Exception:
        undo(store, state, version)
        raise
    logger.warning(
        "redeploy reset the copy count: restored",
        extra={"from_copies": observed.desired_copies, "to_copies": target},
    )
    emit(contract.METRIC_SCALING_DECISIONS, 1, endpoint=cfg.endpoint, component=component.name)
    with contextlib.suppress(StateUnavailable):
        store.put_history(
            "DECISION",
            now,
            component.name,
            {
                "action": "reconciled",
                "reason": "Reconcile",
                "target_copies": target,
                "desired_copies": observed.desired_copies,
            },
        )
    return {
        "component": component.name,
        "action": "restored",
        "target_copies": target,
        "desired_copies": observed.desired_copies,
    }
