"""One evaluation of one component: load → decide → commit → apply (or undo) → record.

An alarm transition and each re-evaluation from the queue run the same evaluation, with its
inputs in one ``Evaluation``. The commit is optimistic: the intent (target, cooldown, pending
scale-out; ``bookkeeping.decision_record``) is written under the component row's version
before SageMaker is asked, so two racing invocations cannot both apply; the loser reads again
and decides from there.

Failure rules (docs/control-plane.md, "Failure handling"):

* table unavailable → scale-out still happens (fail open), scale-in does not (fail closed,
  ``History.complete=False``);
* component gone or not created yet → a clean no-op (``ComponentNotFound``): no exception, no
  retry, no follow-up;
* ``DescribeInferenceComponent`` throttled after the SDK's retries → deferred through the queue,
  5 x 2^attempt s, counted in ``ScalingErrors``;
* component, endpoint or a sibling busy (``obstacles.busy_reason``) → deferred 15 s;
* instance shortage (``obstacles.shortage_reason``) while the alarm asks for copies → an
  ``ERROR#`` row (code ``InstanceShortage``), ``CapacityShortages`` +1, next look after 900 s;
* the update call fails → SageMaker is read again: if the count changed to the target, what
  happened is kept (recorded, reported ``scaled``); if it cannot be read and the decision was a
  scale-in, the record (its cooldown) stays and the component is looked at again in 15 s;
  otherwise the recorded intent is put back and: busy → 15 s; throttled → backoff, counted;
  capacity or limit error → ``ERROR#`` row, counted, next look after 900 s (no crash loop); a
  ``ValidationException`` of no known meaning → counted, ``ERROR#`` row, and raised; any other
  error is raised. Raised errors take the function's failure path: Lambda's two retries then
  its failure destination on the alarm path, the batch failure then the queue's dead-letter
  queue on the queue path, and the function's ``Errors`` metric either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import aws, clock, contract
from .bookkeeping import decision_record, history_from, undo_record
from .claims import start_chain
from .decision import Decision, Snapshot, Trigger, decide, free_slots, snapshot
from .evaluation_types import Evaluation, Outcome
from .events import ForeignEndpoint
from .followups import BUSY_RETRY_S, CAPACITY_RETRY_S, THROTTLE_BASE_S, backoff_s, schedule
from .journal import log_decision, record_decision, record_error
from .observability import emit, logger
from .obstacles import busy_reason, shortage_reason, took_effect
from .state import ComponentState, Conflict, StateStore, StateUnavailable

if TYPE_CHECKING:
    from types_boto3_sagemaker import SageMakerClient

MAX_COMMIT_ATTEMPTS = 3  # re-read and decide again after a lost conditional write
SHORTAGE_CODE = "InstanceShortage"  # the ERROR# row's code and the outcome's reason


def snapshot_from(
    trigger: Trigger,
    in_alarm: bool,
    datapoints: tuple[float, ...],
    observed: aws.ComponentObservation,
    instances: int | None,
    free_copy_slots: int | None,
    image_cached: bool | None,
) -> Snapshot:
    """The decision's inputs from the alarm's datapoints and SageMaker's answer
    (``decision.snapshot``, which the simulator calls too)."""
    return snapshot(
        trigger,
        in_alarm,
        datapoints,
        observed.desired_copies,
        observed.current_copies,
        free_copy_slots=free_copy_slots,
        instances=instances,
        image_cached=image_cached,
    )


def evaluate(ev: Evaluation) -> Outcome:
    """Decide for ``ev.component`` and apply the decision; one call per alarm or re-evaluation."""
    sagemaker = aws.sagemaker()
    cfg, component, now = ev.cfg, ev.component, ev.now
    for attempt in range(MAX_COMMIT_ATTEMPTS):
        state, complete, others, image_cached = _load(ev)
        try:
            observed = aws.describe_component(sagemaker, component.name)
        except aws.NotFound as exc:
            return _absent(ev, exc)
        except aws.Throttled as exc:
            _start_chain(ev)  # the deferred look belongs to this transition's chain
            return _deferred(ev, exc, backoff_s(THROTTLE_BASE_S, ev.attempt), counted=True)
        if observed.endpoint != cfg.endpoint:
            raise ForeignEndpoint(
                f"inference component {component.name!r} belongs to endpoint "
                f"{observed.endpoint!r}, not {cfg.endpoint!r}; nothing changed"
            )
        _start_chain(ev)
        endpoint = _endpoint(sagemaker, cfg.endpoint)
        instances = endpoint.current_instances if endpoint else None
        seen = snapshot_from(
            ev.trigger,
            ev.in_alarm,
            ev.datapoints,
            observed,
            instances,
            free_slots(component.spec, instances, observed.desired_copies, others),
            image_cached,
        )
        history = history_from(state, complete)
        decision = decide(seen, component.spec, history, now)
        decided_at = clock.now()
        if attempt == 0 and ev.alarm_at is not None:
            _phase(ev, contract.METRIC_ALARM_TO_DECISION_SECONDS, decided_at - ev.alarm_at)
        log_decision(decision, seen, history, observed)
        if ev.in_alarm and ev.trigger is not Trigger.SCALE_IN:
            shortage = shortage_reason(observed, endpoint, state, history, component.spec, now)
            if shortage is not None:
                return _shortage(ev, decision, shortage)
        if not decision.changes:
            record_decision(ev.store, now, component.name, decision, seen, "held")
            after = (
                schedule(cfg, ev.followup(), decision.reevaluate_after_s) if ev.in_alarm else None
            )
            return Outcome(
                component.name,
                "held" if ev.in_alarm else "stopped",
                decision.reason.value,
                decision.target_copies,
                decision.desired_copies,
                after,
                decision.detail,
            )
        busy = busy_reason(sagemaker, cfg, observed, endpoint)
        if busy is not None:
            reason, detail = busy
            after = schedule(cfg, ev.followup(deferred=True), BUSY_RETRY_S)
            logger.info("busy: deferred", extra={"reason": reason, "detail": detail})
            return Outcome(
                component.name,
                "deferred",
                reason,
                decision.target_copies,
                decision.desired_copies,
                after,
                detail,
            )
        try:
            version = _commit(ev.store, state, decision, seen, now, complete)
        except Conflict:
            logger.info("another invocation changed the component first: deciding again")
            continue
        return _apply(ev, decision, seen, state, version, decided_at)
    after = schedule(cfg, ev.followup(deferred=True), BUSY_RETRY_S)
    return Outcome(
        component.name,
        "deferred",
        "Contention",
        reevaluate_after_s=after,
        detail=f"{MAX_COMMIT_ATTEMPTS} conditional writes lost in a row",
    )


def _start_chain(ev: Evaluation) -> None:
    """A transition to ALARM makes its chain the live one, once its component is known to exist
    (an unconditional write: repeating it after a Conflict is harmless)."""
    if ev.starts_chain:
        start_chain(ev.store, ev.component.name, ev.trigger.value, ev.chain_id)


def _load(ev: Evaluation) -> tuple[ComponentState, bool, dict[str, tuple[int, int]], bool | None]:
    """The component's row, whether it could be read, other components' copies, image cache."""
    cfg, component = ev.cfg, ev.component
    try:
        rows = ev.store.load_components()
        image = ev.store.get(f"IMAGE#{component.image}")
    except StateUnavailable as exc:
        logger.warning("state table unavailable: scale-out only", extra={"error": str(exc)})
        return ComponentState(component.name), False, {}, None
    others = {
        name: (row.observed_desired or 0, cfg.components[name].spec.copies_per_instance)
        for name, row in rows.items()
        if name != component.name and name in cfg.components
    }
    cached = None if image is None else image.get("state") == "cached"
    return rows.get(component.name, ComponentState(component.name)), True, others, cached


def _endpoint(sagemaker: SageMakerClient, endpoint: str) -> aws.EndpointObservation | None:
    try:
        return aws.describe_endpoint(sagemaker, endpoint)
    except Exception as exc:  # instances refine placement only; never block a decision
        logger.warning("DescribeEndpoint failed", extra={"error": str(exc)})
        return None


def _commit(
    store: StateStore,
    state: ComponentState,
    decision: Decision,
    seen: Snapshot,
    now: float,
    complete: bool,
) -> int | None:
    """Record the intent under the row's version; ``None`` when the table is unavailable."""
    if not complete:
        return None  # scale-out goes ahead without the table (decide held any scale-in)
    record = decision_record(decision, seen, now)
    try:
        return store.commit_component(state.name, state.version, record.values, record.remove)
    except StateUnavailable as exc:
        if decision.delta < 0:
            raise  # never scale in without recording it: the cooldown would be lost
        logger.warning("could not record intent: scaling out anyway", extra={"error": str(exc)})
        return None


def _apply(
    ev: Evaluation,
    decision: Decision,
    seen: Snapshot,
    state: ComponentState,
    version: int | None,
    decided_at: float,
) -> Outcome:
    sagemaker = aws.sagemaker()
    try:
        aws.set_copy_count(sagemaker, ev.component.name, decision.target_copies)
    except Exception as exc:
        return _failed_update(ev, decision, seen, state, version, exc)
    _phase(ev, contract.METRIC_DECISION_TO_DESIRED_SECONDS, clock.now() - decided_at)
    return _scaled(ev, decision, seen)


def _phase(ev: Evaluation, metric: str, seconds: float) -> None:
    """One phase's duration, by component (never negative: clocks of two services differ)."""
    emit(
        metric, max(0.0, seconds), "Seconds", endpoint=ev.cfg.endpoint, component=ev.component.name
    )


def _scaled(ev: Evaluation, decision: Decision, seen: Snapshot, note: str = "") -> Outcome:
    cfg, name = ev.cfg, ev.component.name
    emit(contract.METRIC_SCALING_DECISIONS, 1, endpoint=cfg.endpoint, component=name)
    emit(
        contract.METRIC_TARGET_COPIES, decision.target_copies, endpoint=cfg.endpoint, component=name
    )
    record_decision(ev.store, ev.now, name, decision, seen, "scaled")
    logger.info(
        "scaled",
        extra={
            "from_copies": decision.desired_copies,
            "to_copies": decision.target_copies,
            "reason": decision.reason.value,
            "predicted_ready_s": decision.predicted_ready_s,
        },
    )
    after = schedule(cfg, ev.followup(), decision.reevaluate_after_s) if ev.in_alarm else None
    return Outcome(
        name,
        "scaled",
        decision.reason.value,
        decision.target_copies,
        decision.desired_copies,
        after,
        decision.detail + note,
        {"predicted_ready_s": decision.predicted_ready_s},
    )


def _failed_update(
    ev: Evaluation,
    decision: Decision,
    seen: Snapshot,
    state: ComponentState,
    version: int | None,
    exc: Exception,
) -> Outcome:
    """The update call failed. It may still have happened (a read timeout after SageMaker took
    it, or the SDK's retry meeting the update its first attempt started), so SageMaker is read
    again and what happened is kept: never undo the cooldown of a scale-in that was applied."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, aws.NotFound):
        undo(ev.store, state, version)
        return _absent(ev, exc)
    happened = took_effect(
        aws.sagemaker(), ev.component.name, decision.desired_copies, decision.target_copies
    )
    if happened:
        logger.warning("the update happened although its call failed", extra={"error": error})
        return _scaled(ev, decision, seen, f" (applied; the call reported {error})")
    if happened is None and decision.delta < 0:
        # Copies may have gone: keep the record, so its cooldown holds, and look again soon.
        logger.warning(
            "scale-in outcome unknown: recorded, looked at again", extra={"error": error}
        )
        return _deferred(ev, exc, BUSY_RETRY_S, reason="Unconfirmed", counted=True)
    undo(ev.store, state, version)
    if isinstance(exc, aws.CapacityError):
        return _capacity_error(ev, decision, exc)
    if isinstance(exc, aws.Throttled):
        return _deferred(ev, exc, backoff_s(THROTTLE_BASE_S, ev.attempt), decision, counted=True)
    if isinstance(exc, aws.Busy):
        return _deferred(ev, exc, BUSY_RETRY_S, decision)
    if isinstance(exc, aws.Rejected):
        # A refusal of no known meaning: counted, recorded, and raised so that it reaches the
        # function's failure path (Lambda's retries, then its failure destination; for a queued
        # re-evaluation the batch failure, then the queue's dead-letter queue) and its alarms.
        emit(
            contract.METRIC_SCALING_ERRORS, 1, endpoint=ev.cfg.endpoint, component=ev.component.name
        )
        logger.error("update rejected", extra={"error": exc.code, "error_message": exc.message})
        record_error(ev.store, ev.now, ev.component.name, exc.code, exc.message, decision)
    # Any other failure (an unexpected error code, a bug) goes to the same failure path, with
    # the recorded intent put back since the copy count did not change.
    raise exc


def _deferred(
    ev: Evaluation,
    exc: Exception,
    delay_s: int,
    decision: Decision | None = None,
    reason: str = "",
    counted: bool = False,
) -> Outcome:
    """Look again after ``delay_s`` through the queue (busy, throttled, unconfirmed)."""
    code = exc.code if isinstance(exc, aws.AwsFault) else type(exc).__name__
    if counted:
        emit(
            contract.METRIC_SCALING_ERRORS, 1, endpoint=ev.cfg.endpoint, component=ev.component.name
        )
    logger.warning("deferred", extra={"error": code, "retry_in_s": delay_s})
    after = schedule(ev.cfg, ev.followup(deferred=True), delay_s)
    return Outcome(
        ev.component.name,
        "deferred",
        reason or type(exc).__name__,
        decision.target_copies if decision else None,
        decision.desired_copies if decision else None,
        after,
        exc.message if isinstance(exc, aws.AwsFault) else str(exc),
    )


def _absent(ev: Evaluation, exc: Exception) -> Outcome:
    """The component does not exist (not created yet, or deleted): nothing to scale, no retry."""
    logger.info("component not found: nothing to do", extra={"error": str(exc)})
    return Outcome(ev.component.name, "stopped", "ComponentNotFound", detail=str(exc)[:500])


def undo(store: StateStore, state: ComponentState, version: int | None) -> None:
    """The update did not happen: put the recorded intent back as it was in ``state``
    (``version`` is the row's version after the commit; ``None``: nothing was committed)."""
    if version is None:
        return
    record = undo_record(state)
    try:
        store.commit_component(state.name, version, record.values, record.remove)
    except (Conflict, StateUnavailable) as exc:
        logger.warning("could not undo recorded intent", extra={"error": str(exc)})


def _capacity_error(ev: Evaluation, decision: Decision, exc: aws.AwsFault) -> Outcome:
    name = ev.component.name
    emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=ev.cfg.endpoint, component=name)
    logger.error(
        "capacity or limit error: recorded, not retried soon",
        extra={
            "error": exc.code,
            "error_message": exc.message,
            "target_copies": decision.target_copies,
        },
    )
    record_error(ev.store, ev.now, name, exc.code, exc.message, decision)
    after = schedule(ev.cfg, ev.followup(), CAPACITY_RETRY_S)
    return Outcome(
        name,
        "error",
        exc.code,
        decision.target_copies,
        decision.desired_copies,
        after,
        exc.message,
    )


def _shortage(ev: Evaluation, decision: Decision, why: str) -> Outcome:
    """Copies asked for that SageMaker cannot place: recorded and counted once per look, and
    the next look only after ``CAPACITY_RETRY_S`` (a shortage does not clear in seconds)."""
    name = ev.component.name
    emit(contract.METRIC_CAPACITY_SHORTAGES, 1, endpoint=ev.cfg.endpoint, component=name)
    logger.error("instance shortage: backing off", extra={"detail": why})
    record_error(ev.store, ev.now, name, SHORTAGE_CODE, why, decision)
    after = schedule(ev.cfg, ev.followup(), CAPACITY_RETRY_S)
    return Outcome(
        name,
        "error",
        SHORTAGE_CODE,
        decision.target_copies,
        decision.desired_copies,
        after,
        why,
    )
