"""The scaler: alarm → load state → decide → UpdateInferenceComponentRuntimeConfig → record.

Three kinds of event arrive (handler ``control_plane.scaler.handler``):

* a CloudWatch alarm state change (the alarm invokes the function directly, on transitions);
* re-evaluations from the endpoint's delay queue: while an alarm stays in ALARM it does not
  invoke again, so every decision taken in ALARM schedules the next look after its cooldown
  (``Decision.reevaluate_after_s``), and the chain stops when the alarm is back to OK;
* the ``Reconcile`` custom resource, run after each deploy: a CloudFormation update sets the
  copy count from the template, so copies the scaler added would silently vanish. It restores
  the count the scaler last set (``scaler_copies`` in the table), clamped to the new limits.

Failure rules: the table unavailable → scale-out still happens (fail open), scale-in does not
(fail closed, ``History.complete=False``); component busy → defer through the queue; throttled
after the SDK's retries → defer with exponential backoff; capacity or limit error → record,
count in ``ScalingErrors``, log, and look again only after 15 minutes (no crash loop).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from . import aws, clock, contract
from .bookkeeping import decision_record, history_from, undo_record
from .decision import (
    Decision,
    History,
    Snapshot,
    Trigger,
    clamp,
    decide,
    free_slots,
)
from .decision import snapshot as build_snapshot
from .events import (
    AlarmEvent,
    CustomResourceEvent,
    EventError,
    ForeignEndpoint,
    ReconcileRequest,
    Reevaluation,
    is_alarm_event,
    is_custom_resource_event,
    is_sqs_event,
    parse_alarm_event,
    parse_custom_resource,
    parse_queue_message,
)
from .observability import bind, emit, logger, reset
from .settings import Component, Settings, settings
from .state import ComponentState, Conflict, StateStore, StateUnavailable

BUSY_RETRY_S = 15  # a copy-count update usually leaves Updating within a minute
THROTTLE_BASE_S = 5  # backoff after throttling: 5, 10, 20, ... s, at most the SQS maximum
CAPACITY_RETRY_S = aws.MAX_SQS_DELAY_S  # limits do not clear in seconds
MAX_COMMIT_ATTEMPTS = 3  # re-read and decide again after a lost conditional write
DEFAULT_PERIOD_S = 10


@dataclass
class Outcome:
    """What one evaluation did; returned by the handler and logged."""

    component: str
    action: str  # scaled | held | deferred | duplicate | error | stopped | superseded
    reason: str
    target_copies: int | None = None
    desired_copies: int | None = None
    reevaluate_after_s: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "extra" and v is not None}
        out.update(self.extra)
        return out


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point: dispatch by event kind; refuse what is not this endpoint's."""
    cfg = settings()
    reset(cfg.endpoint)
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


def _store(cfg: Settings) -> StateStore:
    return StateStore(aws.client("dynamodb"), cfg.table_name, cfg.endpoint, cfg.history_ttl_days)


# --- alarm events -----------------------------------------------------------------------------
def handle_alarm(alarm: AlarmEvent, cfg: Settings) -> Outcome:
    bind(
        alarm=alarm.alarm_name,
        component=alarm.component,
        trigger=alarm.trigger.value,
        event_id=alarm.event_id,
    )
    component = cfg.component(alarm.component)  # UnknownComponent before anything is read
    now = clock.now()
    store = _store(cfg)
    claimed = _claim(store, alarm.event_id, now)
    if claimed is False:
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
    chain_id = _start_chain(store, component.name, alarm) if alarm.in_alarm else ""
    try:
        outcome = evaluate(
            cfg,
            store,
            component,
            alarm.trigger,
            alarm.alarm_name,
            alarm.in_alarm,
            alarm.datapoints,
            attempt=0,
            now=now,
            period_s=alarm.period_s or DEFAULT_PERIOD_S,
            stat=alarm.stat or "Average",
            chain_id=chain_id,
        )
    except Exception:
        if claimed:
            _release(store, alarm.event_id)  # let the retry do the work this attempt did not
        raise
    if claimed:
        _finish(store, alarm.event_id)
    return outcome


def _claim(store: StateStore, event_id: str, now: float) -> bool | None:
    """True: first delivery; False: duplicate; None: cannot tell (table unavailable)."""
    try:
        return store.claim_event(event_id, now, contract.SCALER_TIMEOUT_S)
    except StateUnavailable as exc:
        logger.warning("idempotency claim unavailable: acting anyway", extra={"error": str(exc)})
        return None


def _start_chain(store: StateStore, component: str, alarm: AlarmEvent) -> str:
    """Make this transition's chain the live one: a chain still queued from before an
    ALARM → OK → ALARM flap is dropped when it comes due, instead of running alongside."""
    try:
        store.start_chain(component, alarm.trigger.value, alarm.event_id)
    except StateUnavailable as exc:
        logger.warning("could not record the re-evaluation chain", extra={"error": str(exc)})
    return alarm.event_id


def _finish(store: StateStore, event_id: str) -> None:
    try:
        store.finish_event(event_id)
    except StateUnavailable:
        # The claim stays in progress and expires after the function timeout: a redelivery
        # then repeats a decision, which decide() and the cooldowns make harmless.
        logger.warning("could not mark idempotency claim done", extra={"event_id": event_id})


def _release(store: StateStore, event_id: str) -> None:
    try:
        store.release_event(event_id)
    except StateUnavailable:
        logger.warning("could not release idempotency claim", extra={"event_id": event_id})


# --- the evaluation shared by alarms and re-evaluations -----------------------------------
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
    return build_snapshot(
        trigger,
        in_alarm,
        datapoints,
        observed.desired_copies,
        observed.current_copies,
        free_copy_slots=free_copy_slots,
        instances=instances,
        image_cached=image_cached,
    )


def evaluate(
    cfg: Settings,
    store: StateStore,
    component: Component,
    trigger: Trigger,
    alarm_name: str,
    in_alarm: bool,
    datapoints: tuple[float, ...],
    *,
    attempt: int,
    now: float,
    period_s: int,
    stat: str,
    chain_id: str = "",
) -> Outcome:
    """Decide for ``component`` and apply the decision; one call per alarm or re-evaluation."""
    sagemaker = aws.client("sagemaker")
    spec = component.spec
    for _ in range(MAX_COMMIT_ATTEMPTS):
        state, complete, others, image_cached = _load(cfg, store, component)
        observed = aws.describe_component(sagemaker, component.name)
        if observed.endpoint != cfg.endpoint:
            raise ForeignEndpoint(
                f"inference component {component.name!r} belongs to endpoint "
                f"{observed.endpoint!r}, not {cfg.endpoint!r}; nothing changed"
            )
        instances = _instances(sagemaker, cfg.endpoint)
        snapshot = snapshot_from(
            trigger,
            in_alarm,
            datapoints,
            observed,
            instances,
            free_slots(spec, instances, observed.desired_copies, others),
            image_cached,
        )
        history = history_from(state, complete)
        decision = decide(snapshot, spec, history, now)
        _log_decision(decision, snapshot, history, observed)
        followup = Reevaluation(
            cfg.endpoint, component.name, trigger, alarm_name, 0, period_s, stat, chain_id
        )
        if not decision.changes:
            _record(store, now, component.name, decision, snapshot, "held")
            after = _schedule(cfg, followup, decision.reevaluate_after_s) if in_alarm else None
            action = "stopped" if not in_alarm else "held"
            return Outcome(
                component.name,
                action,
                decision.reason.value,
                decision.target_copies,
                decision.desired_copies,
                after,
                decision.detail,
            )
        if observed.busy:
            after = _schedule(cfg, _retry(followup, attempt), BUSY_RETRY_S)
            logger.info("component busy: deferred", extra={"status": observed.status})
            return Outcome(
                component.name,
                "deferred",
                "ComponentBusy",
                decision.target_copies,
                decision.desired_copies,
                after,
                f"status {observed.status}",
            )
        try:
            version = _commit(store, state, decision, snapshot, now, complete)
        except Conflict:
            logger.info("another invocation changed the component first: deciding again")
            continue
        return _apply(
            cfg, store, component, decision, snapshot, state, version, followup, attempt, now
        )
    after = _schedule(
        cfg,
        _retry(
            Reevaluation(
                cfg.endpoint, component.name, trigger, alarm_name, 0, period_s, stat, chain_id
            ),
            attempt,
        ),
        BUSY_RETRY_S,
    )
    return Outcome(
        component.name,
        "deferred",
        "Contention",
        reevaluate_after_s=after,
        detail=f"{MAX_COMMIT_ATTEMPTS} conditional writes lost in a row",
    )


def _load(
    cfg: Settings, store: StateStore, component: Component
) -> tuple[ComponentState, bool, dict[str, tuple[int, int]], bool | None]:
    """The component's row, whether it could be read, other components' copies, image cache."""
    try:
        rows = store.load_components()
        image = store.get(f"IMAGE#{component.image}")
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


def _instances(sagemaker: Any, endpoint: str) -> int | None:
    try:
        return aws.describe_endpoint(sagemaker, endpoint).current_instances
    except Exception as exc:  # instances refine placement only; never block a decision
        logger.warning("DescribeEndpoint failed", extra={"error": str(exc)})
        return None


def _commit(
    store: StateStore,
    state: ComponentState,
    decision: Decision,
    snapshot: Snapshot,
    now: float,
    complete: bool,
) -> int | None:
    """Record the intent under the row's version; ``None`` when the table is unavailable."""
    if not complete:
        return None  # scale-out goes ahead without the table (decide held any scale-in)
    record = decision_record(decision, snapshot, now)
    try:
        return store.commit_component(state.name, state.version, record.values, record.remove)
    except StateUnavailable as exc:
        if decision.delta < 0:
            raise  # never scale in without recording it: the cooldown would be lost
        logger.warning("could not record intent: scaling out anyway", extra={"error": str(exc)})
        return None


def _apply(
    cfg: Settings,
    store: StateStore,
    component: Component,
    decision: Decision,
    snapshot: Snapshot,
    state: ComponentState,
    version: int | None,
    followup: Reevaluation,
    attempt: int,
    now: float,
) -> Outcome:
    sagemaker = aws.client("sagemaker")
    name = component.name
    try:
        aws.set_copy_count(sagemaker, name, decision.target_copies)
    except (aws.Busy, aws.Throttled, aws.CapacityError) as exc:
        _undo(store, state, version)
        if isinstance(exc, aws.CapacityError):
            return _capacity_error(cfg, store, component, decision, exc, followup, now)
        if isinstance(exc, aws.Throttled):
            delay = min(aws.MAX_SQS_DELAY_S, THROTTLE_BASE_S * 2**attempt)
            emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=cfg.endpoint, component=name)
        else:
            delay = BUSY_RETRY_S
        logger.warning("update deferred", extra={"error": exc.code, "retry_in_s": delay})
        after = _schedule(cfg, _retry(followup, attempt), delay)
        return Outcome(
            name,
            "deferred",
            type(exc).__name__,
            decision.target_copies,
            decision.desired_copies,
            after,
            exc.message,
        )
    except Exception:
        # Any other failure (an unexpected error code, a timeout, a bug): the copy count may
        # not have changed, so the recorded intent and its cooldown must not stay behind.
        _undo(store, state, version)
        raise
    emit(contract.METRIC_SCALING_DECISIONS, 1, endpoint=cfg.endpoint, component=name)
    emit(
        contract.METRIC_TARGET_COPIES, decision.target_copies, endpoint=cfg.endpoint, component=name
    )
    _record(store, now, name, decision, snapshot, "scaled")
    logger.info(
        "scaled",
        extra={
            "from_copies": decision.desired_copies,
            "to_copies": decision.target_copies,
            "reason": decision.reason.value,
            "predicted_ready_s": decision.predicted_ready_s,
        },
    )
    after = (
        _schedule(cfg, followup, decision.reevaluate_after_s) if snapshot.alarm_in_alarm else None
    )
    return Outcome(
        name,
        "scaled",
        decision.reason.value,
        decision.target_copies,
        decision.desired_copies,
        after,
        decision.detail,
        {"predicted_ready_s": decision.predicted_ready_s},
    )


def _undo(store: StateStore, state: ComponentState, version: int | None) -> None:
    """The update did not happen: put the recorded intent back as it was."""
    if version is None:
        return
    record = undo_record(state)
    try:
        store.commit_component(state.name, version, record.values, record.remove)
    except (Conflict, StateUnavailable) as exc:
        logger.warning("could not undo recorded intent", extra={"error": str(exc)})


def _capacity_error(
    cfg: Settings,
    store: StateStore,
    component: Component,
    decision: Decision,
    exc: aws.AwsFault,
    followup: Reevaluation,
    now: float,
) -> Outcome:
    emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=cfg.endpoint, component=component.name)
    logger.error(
        "capacity or limit error: recorded, not retried soon",
        extra={
            "error": exc.code,
            "error_message": exc.message,
            "target_copies": decision.target_copies,
        },
    )
    try:
        store.put_history(
            "ERROR",
            now,
            component.name,
            {
                "code": exc.code,
                "message": exc.message[:1000],
                "target_copies": decision.target_copies,
                "desired_copies": decision.desired_copies,
            },
        )
    except StateUnavailable:
        logger.warning("could not record the error row")
    after = _schedule(cfg, followup, CAPACITY_RETRY_S)
    return Outcome(
        component.name,
        "error",
        exc.code,
        decision.target_copies,
        decision.desired_copies,
        after,
        exc.message,
    )


def _retry(message: Reevaluation, attempt: int) -> Reevaluation:
    return Reevaluation(
        message.endpoint,
        message.component,
        message.trigger,
        message.alarm_name,
        attempt + 1,
        message.period_s,
        message.stat,
        message.chain_id,
    )


def _schedule(
    cfg: Settings, message: Reevaluation | ReconcileRequest, delay_s: int | None
) -> int | None:
    if delay_s is None:
        return None
    try:
        return aws.send_delayed(aws.client("sqs"), cfg.queue_url, message.to_body(), delay_s)
    except Exception as exc:
        # Losing the follow-up is survivable: the alarm's next transition starts a new chain.
        logger.error("could not schedule re-evaluation", extra={"error": str(exc)})
        emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=cfg.endpoint, component=message.component)
        return None


def _record(
    store: StateStore,
    now: float,
    component: str,
    decision: Decision,
    snapshot: Snapshot,
    action: str,
) -> None:
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


def _log_decision(
    decision: Decision, snapshot: Snapshot, history: History, observed: aws.ComponentObservation
) -> None:
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


# --- the re-evaluation queue ------------------------------------------------------------------
def handle_queue(records: list[Any], cfg: Settings) -> dict[str, Any]:
    """Process a batch; failed records go back to the queue (and, after its redrive limit, to
    its dead-letter queue) through the partial batch response."""
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
                outcomes.append(_reconcile_one(cfg, _store(cfg), component, None, message.attempt))
            else:
                outcomes.append(_reevaluate(cfg, component, message, message_id).as_dict())
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


def _reevaluate(
    cfg: Settings, component: Component, message: Reevaluation, message_id: str
) -> Outcome:
    bind(alarm=message.alarm_name, trigger=message.trigger.value)
    now = clock.now()
    store = _store(cfg)
    event_id = f"sqs|{message_id}"
    claimed = _claim(store, event_id, now) if message_id else None
    if claimed is False:
        return Outcome(component.name, "duplicate", "Duplicate", detail=event_id)
    try:
        live = _live_chain(store, message)
        reading = (
            None
            if live is not None
            else aws.read_alarm(aws.client("cloudwatch"), message.alarm_name, now)
        )
        if live is not None:
            logger.info(
                "re-evaluation superseded by a newer alarm transition",
                extra={"chain_id": message.chain_id, "live_chain_id": live},
            )
            outcome = Outcome(component.name, "superseded", "Superseded", detail=live)
        elif reading is None:
            logger.warning("alarm no longer exists: re-evaluation chain ends")
            outcome = Outcome(component.name, "stopped", "AlarmGone", detail=message.alarm_name)
        else:
            outcome = evaluate(
                cfg,
                store,
                component,
                message.trigger,
                message.alarm_name,
                reading.state == "ALARM",
                reading.datapoints,
                attempt=message.attempt,
                now=now,
                period_s=message.period_s,
                stat=message.stat,
                chain_id=message.chain_id,
            )
    except Exception:
        if claimed:
            _release(store, event_id)
        raise
    if claimed:
        _finish(store, event_id)
    return outcome


def _live_chain(store: StateStore, message: Reevaluation) -> str | None:
    """The newer chain that supersedes ``message``'s, or ``None`` when it may go on (it is the
    live one, it predates chain ids, or the table cannot tell: fail open)."""
    if not message.chain_id:
        return None
    try:
        live = store.live_chain(message.component, message.trigger.value)
    except StateUnavailable:
        return None
    return live if live is not None and live != message.chain_id else None


# --- Reconcile custom resource ------------------------------------------------------------------
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
    store = _store(cfg)
    results = [_reconcile_one(cfg, store, c, None, 0) for c in components]
    restored = [
        f"{r['component']}={r['target_copies']}" for r in results if r["action"] == "restored"
    ]
    deferred = [r["component"] for r in results if r["action"] == "deferred"]
    logger.info("reconciled", extra={"restored": restored, "deferred": deferred})
    return {
        "PhysicalResourceId": physical_id,
        "Data": {"Restored": ",".join(restored), "Deferred": ",".join(deferred)},
    }


def _defer_reconcile(
    cfg: Settings, component: Component, target: int, attempt: int
) -> dict[str, Any]:
    delay = min(aws.MAX_SQS_DELAY_S, BUSY_RETRY_S * 2**attempt)
    _schedule(cfg, ReconcileRequest(cfg.endpoint, component.name, target, attempt + 1), delay)
    return {"component": component.name, "action": "deferred", "retry_in_s": delay}


def _reconcile_one(
    cfg: Settings, store: StateStore, component: Component, copies: int | None, attempt: int
) -> dict[str, Any]:
    sagemaker = aws.client("sagemaker")
    now = clock.now()
    try:
        state = store.load_component(component.name)
    except StateUnavailable as exc:
        logger.error("cannot reconcile without the table", extra={"error": str(exc)})
        return {"component": component.name, "action": "unavailable"}
    recorded = copies if copies is not None else state.scaler_copies
    observed = aws.describe_component(sagemaker, component.name)
    if recorded is None:
        return {"component": component.name, "action": "nothing-recorded"}
    target = clamp(recorded, component.spec)
    if observed.desired_copies >= target:
        return {
            "component": component.name,
            "action": "in-step",
            "desired_copies": observed.desired_copies,
        }
    if observed.busy:
        return _defer_reconcile(cfg, component, target, attempt)
    try:
        version = store.commit_component(
            component.name, state.version, {"scaler_copies": target, "scaler_set_at": now}
        )
    except Conflict:
        return {"component": component.name, "action": "superseded"}
    try:
        aws.set_copy_count(sagemaker, component.name, target)
    except (aws.Busy, aws.Throttled) as exc:
        _undo(store, state, version)
        logger.warning("reconcile update deferred", extra={"error": exc.code})
        return _defer_reconcile(cfg, component, target, attempt)
    except Exception:
        _undo(store, state, version)
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
