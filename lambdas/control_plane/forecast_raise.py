"""Raise a component's copy count to the forecaster's floor, the way the scaler applies a
scale-out: read SageMaker, refuse when busy or short of instances, record the intent under the
row's version (``bookkeeping.decision_record``: cooldown, and a pending scale-out the tracker
times), then ``UpdateInferenceComponentRuntimeConfig``; a failed update is checked against
SageMaker (``obstacles.took_effect``) and, if it did not happen, the intent is put back
(``evaluation.undo``).

What differs from an alarm's evaluation: nothing here is retried through the scaler's queue,
and nothing raises. A busy component, a throttle, a lost race three times over or a refused
update leave the count as it is; the forecaster's next run (its schedule) looks again. A
forecast only ever adds copies: the target is the floor, and only when it is above the copies
already asked for.
"""

from __future__ import annotations

from . import aws, clock, contract
from .bookkeeping import decision_record, history_from
from .decision import Decision, History, Reason, Snapshot, Trigger, free_slots, raise_to, snapshot
from .evaluation import undo
from .evaluation_types import Outcome
from .events import ForeignEndpoint
from .journal import record_error
from .observability import emit, logger
from .obstacles import busy_reason, shortage_reason, took_effect
from .settings import Component, Settings
from .state import ComponentState, Conflict, StateStore, StateUnavailable

MAX_COMMIT_ATTEMPTS = 3
REASON = Reason.FORECAST.value  # the DECISION# row's and the outcome's reason


def raise_to_floor(
    cfg: Settings, store: StateStore, component: Component, floor: int, now: float
) -> Outcome:
    """Ask for ``floor`` copies of ``component`` if fewer are asked for now."""
    sagemaker = aws.sagemaker()
    name = component.name
    for _ in range(MAX_COMMIT_ATTEMPTS):
        state = store.load_component(name)
        try:
            observed = aws.describe_component(sagemaker, name)
        except aws.NotFound as exc:
            return Outcome(name, "stopped", "ComponentNotFound", floor, detail=exc.message[:500])
        if observed.endpoint != cfg.endpoint:
            raise ForeignEndpoint(
                f"inference component {name!r} belongs to endpoint {observed.endpoint!r}, "
                f"not {cfg.endpoint!r}; nothing changed"
            )
        desired = observed.desired_copies
        if desired >= floor:
            return Outcome(name, "held", "Covered", floor, desired, detail="already asked for")
        try:
            endpoint: aws.EndpointObservation | None = aws.describe_endpoint(
                sagemaker, cfg.endpoint
            )
        except Exception as exc:  # instances refine placement only
            logger.warning("DescribeEndpoint failed", extra={"error": str(exc)})
            endpoint = None
        history = history_from(state)
        shortage = shortage_reason(observed, endpoint, state, history, component.spec, now)
        if shortage is not None:
            return Outcome(name, "held", "InstanceShortage", floor, desired, detail=shortage)
        busy = busy_reason(sagemaker, cfg, observed, endpoint)
        if busy is not None:
            return Outcome(name, "held", busy[0], floor, desired, detail=busy[1])
        decision, seen = _decision(cfg, store, component, observed, endpoint, floor, history)
        record = decision_record(decision, seen, now)
        try:
            version = store.commit_component(name, state.version, record.values, record.remove)
        except Conflict:
            logger.info("the component changed meanwhile: looking again")
            continue
        return _apply(cfg, store, component, decision, state, version, now)
    return Outcome(name, "held", "Contention", floor, detail=f"{MAX_COMMIT_ATTEMPTS} writes lost")


def _decision(
    cfg: Settings,
    store: StateStore,
    component: Component,
    observed: aws.ComponentObservation,
    endpoint: aws.EndpointObservation | None,
    floor: int,
    history: History,
) -> tuple[Decision, Snapshot]:
    """The scale-out to ``floor`` as a ``Decision`` (its placement predicts the path the new
    copies take, which the tracker's timing of them is filed under)."""
    spec = component.spec
    instances = endpoint.current_instances if endpoint else None
    others = {
        n: (row.observed_desired or 0, cfg.components[n].spec.copies_per_instance)
        for n, row in store.load_components().items()
        if n != component.name and n in cfg.components
    }
    image = store.get(f"IMAGE#{component.image}")
    seen = snapshot(
        Trigger.SCALE_OUT,
        True,
        (),
        observed.desired_copies,
        observed.current_copies,
        free_copy_slots=free_slots(spec, instances, observed.desired_copies, others),
        instances=instances,
        image_cached=None if image is None else image.get("state") == "cached",
    )
    decision = raise_to(floor, seen, spec, history)
    return decision, seen


def _apply(
    cfg: Settings,
    store: StateStore,
    component: Component,
    decision: Decision,
    state: ComponentState,
    version: int,
    now: float,
) -> Outcome:
    sagemaker = aws.sagemaker()
    name = component.name
    try:
        aws.set_copy_count(sagemaker, name, decision.target_copies)
    except Exception as exc:
        if not took_effect(sagemaker, name, decision.desired_copies, decision.target_copies):
            undo(store, state, version)
            return _failed(cfg, store, name, decision, exc, now)
        logger.warning("the update happened although its call failed", extra={"error": str(exc)})
    emit(contract.METRIC_SCALING_DECISIONS, 1, endpoint=cfg.endpoint, component=name)
    emit(
        contract.METRIC_TARGET_COPIES, decision.target_copies, endpoint=cfg.endpoint, component=name
    )
    # The same phase the scaler reports: decision (``now``) to the desired count being set.
    emit(
        contract.METRIC_DECISION_TO_DESIRED_SECONDS,
        max(0.0, clock.now() - now),
        "Seconds",
        endpoint=cfg.endpoint,
        component=name,
    )
    _journal(store, now, name, decision)
    logger.info(
        "forecast raised the copy count",
        extra={
            "from_copies": decision.desired_copies,
            "to_copies": decision.target_copies,
            "predicted_ready_s": decision.predicted_ready_s,
        },
    )
    return Outcome(
        name,
        "scaled",
        REASON,
        decision.target_copies,
        decision.desired_copies,
        detail=decision.detail,
        extra={"predicted_ready_s": decision.predicted_ready_s},
    )


def _failed(
    cfg: Settings, store: StateStore, name: str, decision: Decision, exc: Exception, now: float
) -> Outcome:
    """The update did not happen: counted, an ``ERROR#`` row for a refusal or a limit, and the
    next scheduled run looks again (a busy component is not an error)."""
    code = exc.code if isinstance(exc, aws.AwsFault) else type(exc).__name__
    message = exc.message if isinstance(exc, aws.AwsFault) else str(exc)
    if not isinstance(exc, aws.Busy | aws.NotFound):
        emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=cfg.endpoint, component=name)
    if isinstance(exc, aws.CapacityError | aws.Rejected):
        record_error(store, now, name, code, message, decision)
    logger.warning("forecast update not applied", extra={"error": code, "error_message": message})
    return Outcome(
        name, "held", code, decision.target_copies, decision.desired_copies, detail=message[:500]
    )


def _journal(store: StateStore, now: float, name: str, decision: Decision) -> None:
    try:
        store.put_history(
            "DECISION",
            now,
            name,
            {
                "action": "scaled",
                "reason": REASON,
                "valid": True,
                "target_copies": decision.target_copies,
                "desired_copies": decision.desired_copies,
                "trigger": "forecast",
                "predicted_ready_s": decision.predicted_ready_s,
                "detail": decision.detail[:500],
            },
        )
    except StateUnavailable:
        logger.warning("decision not recorded: table unavailable")
