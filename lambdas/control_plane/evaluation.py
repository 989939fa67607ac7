"""One evaluation of one component: load → decide → commit → apply (or undo) → record.

An alarm transition and each re-evaluation from the queue run the same evaluation, with its
inputs in one ``Evaluation``. The commit is optimistic: the intent (target, cooldown, pending
scale-out; ``bookkeeping.decision_record``) is written under the component row's version
before SageMaker is asked, so two racing invocations cannot both apply; the loser reads again
and decides from there. An update that fails puts the recorded intent back.

Failure rules: the table unavailable → scale-out still happens (fail open), scale-in does not
(fail closed, ``History.complete=False``); component busy → defer through the queue; throttled
after the SDK's retries → defer with exponential backoff; capacity or limit error → record,
count in ``ScalingErrors``, log, and look again only after 15 minutes (no crash loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import aws, contract
from .bookkeeping import decision_record, history_from, undo_record
from .decision import Decision, Snapshot, Trigger, decide, free_slots, snapshot
from .events import AlarmEvent, ForeignEndpoint, Reevaluation
from .followups import BUSY_RETRY_S, CAPACITY_RETRY_S, THROTTLE_BASE_S, backoff_s, schedule
from .journal import log_decision, record_decision, record_error
from .observability import emit, logger
from .settings import Component, Settings
from .state import ComponentState, Conflict, StateStore, StateUnavailable

if TYPE_CHECKING:
    from types_boto3_sagemaker import SageMakerClient

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


@dataclass(frozen=True)
class Evaluation:
    """Everything one evaluation needs: where it runs, what asked, and what the alarm showed."""

    cfg: Settings
    store: StateStore
    component: Component
    trigger: Trigger
    alarm_name: str
    in_alarm: bool
    datapoints: tuple[float, ...]  # the alarm window's, oldest first
    now: float
    period_s: int  # the alarm's period and statistic, carried along the chain
    stat: str
    chain_id: str = ""  # the alarm transition whose re-evaluation chain this is
    attempt: int = 0  # consecutive deferrals before this one: drives the backoff

    @classmethod
    def of_alarm(
        cls,
        alarm: AlarmEvent,
        cfg: Settings,
        store: StateStore,
        component: Component,
        now: float,
        chain_id: str,
    ) -> Evaluation:
        """The evaluation of an alarm transition (its datapoints come with the event)."""
        return cls(
            cfg,
            store,
            component,
            alarm.trigger,
            alarm.alarm_name,
            alarm.in_alarm,
            alarm.datapoints,
            now,
            alarm.period_s or DEFAULT_PERIOD_S,
            alarm.stat or "Average",
            chain_id,
        )

    @classmethod
    def of_reevaluation(
        cls,
        message: Reevaluation,
        reading: aws.AlarmReading,
        cfg: Settings,
        store: StateStore,
        component: Component,
        now: float,
    ) -> Evaluation:
        """The evaluation a queued re-evaluation asks for, with the alarm as it reads now."""
        return cls(
            cfg,
            store,
            component,
            message.trigger,
            message.alarm_name,
            reading.state == "ALARM",
            reading.datapoints,
            now,
            message.period_s,
            message.stat,
            message.chain_id,
            message.attempt,
        )

    def followup(self, deferred: bool = False) -> Reevaluation:
        """This chain's next re-evaluation: after a decision (attempt 0), or after a deferral
        (one more consecutive attempt, for the backoff)."""
        return Reevaluation(
            self.cfg.endpoint,
            self.component.name,
            self.trigger,
            self.alarm_name,
            self.attempt + 1 if deferred else 0,
            self.period_s,
            self.stat,
            self.chain_id,
        )


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
    for _ in range(MAX_COMMIT_ATTEMPTS):
        state, complete, others, image_cached = _load(ev)
        observed = aws.describe_component(sagemaker, component.name)
        if observed.endpoint != cfg.endpoint:
            raise ForeignEndpoint(
                f"inference component {component.name!r} belongs to endpoint "
                f"{observed.endpoint!r}, not {cfg.endpoint!r}; nothing changed"
            )
        instances = _instances(sagemaker, cfg.endpoint)
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
        log_decision(decision, seen, history, observed)
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
        if observed.busy:
            after = schedule(cfg, ev.followup(deferred=True), BUSY_RETRY_S)
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
            version = _commit(ev.store, state, decision, seen, now, complete)
        except Conflict:
            logger.info("another invocation changed the component first: deciding again")
            continue
        return _apply(ev, decision, seen, state, version)
    after = schedule(cfg, ev.followup(deferred=True), BUSY_RETRY_S)
    return Outcome(
        component.name,
        "deferred",
        "Contention",
        reevaluate_after_s=after,
        detail=f"{MAX_COMMIT_ATTEMPTS} conditional writes lost in a row",
    )


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


def _instances(sagemaker: SageMakerClient, endpoint: str) -> int | None:
    try:
        return aws.describe_endpoint(sagemaker, endpoint).current_instances
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
) -> Outcome:
    cfg, name = ev.cfg, ev.component.name
    try:
        aws.set_copy_count(aws.sagemaker(), name, decision.target_copies)
    except (aws.Busy, aws.Throttled, aws.CapacityError) as exc:
        undo(ev.store, state, version)
        if isinstance(exc, aws.CapacityError):
            return _capacity_error(ev, decision, exc)
        if isinstance(exc, aws.Throttled):
            delay = backoff_s(THROTTLE_BASE_S, ev.attempt)
            emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=cfg.endpoint, component=name)
        else:
            delay = BUSY_RETRY_S
        logger.warning("update deferred", extra={"error": exc.code, "retry_in_s": delay})
        after = schedule(cfg, ev.followup(deferred=True), delay)
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
        undo(ev.store, state, version)
        raise
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
        decision.detail,
        {"predicted_ready_s": decision.predicted_ready_s},
    )


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
