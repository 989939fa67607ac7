"""The cache tracker: the per-endpoint picture the scaler plans with.

Events (handler ``control_plane.cache_tracker.handler``): ``SageMaker Endpoint State Change``,
CloudTrail ``AWS API Call via CloudTrail`` for the inference-component calls (SageMaker sends
no event of its own for them), and a one-minute ``Scheduled Event`` as the polling fallback:
copies becoming ready produce no event at all, so only polling sees a scale-out finish.

Each observation of a component (``DescribeInferenceComponent``, plus ``DescribeEndpoint`` for
the instances) updates:

* the component row's ``observed_*`` attributes and the ``DesiredCopies`` / ``CurrentCopies`` /
  ``Instances`` metrics;
* ``IMAGE#<uri>``: the endpoint's container cache, which SageMaker keeps per endpoint and image
  for new instances (accelerated instance types) and purges with the endpoint. It reports no
  hit or miss, so ``cached`` is inferred from a served copy: ``cold`` (configured, never run
  here) → ``warming`` (copies asked for, none serving yet) → ``cached`` (a copy served on this
  endpoint, so new instances should skip the pull), ``evidence: inferred``,
  ``scope: new-instances``;
* ``MODEL#<name>``: what is observed of the model's copies, ``cold`` → ``warming`` → ``served``
  (``evidence: observed``). Its weights are cached only where a copy runs (data caching serves
  new copies on running instances); a new instance always downloads them, so the row never
  says ``cached`` (``scope: running-instances``);
* a pending scale-out the scaler recorded: when ``CurrentCopyCount`` reaches its target, the
  seconds from decision to that observation go to a ``SCALEOUT#`` row, the ``ScaleOutSeconds``
  metric (dimension ``Path``) and the component's ``ready_s_<path>`` (smoothed) and
  ``ready_at_<path>`` (when), which the scaler's placement weighs by recency against the
  cold-start model's prediction (``lookahead.predicted_ready_s``). The resolution is the polling
  interval (60 s) for copies that finish between events.

Nothing is written for an endpoint that is gone, ``Deleting``, or older than the tombstone
cleanup left (the endpoint that was deleted); an endpoint created after the tombstone is a new
one of the same name: the tracker removes the tombstone and starts from empty rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import aws, clock, contract
from .bookkeeping import time_scale_out
from .events import (
    ApiCallEvent,
    EndpointStateEvent,
    ForeignEndpoint,
    ScheduledEvent,
    parse_eventbridge,
)
from .observability import bind, emit, logger
from .settings import Component, Settings, settings
from .state import ComponentState, Conflict, EndpointGone, StateStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from types_boto3_sagemaker import SageMakerClient

# The cache rows: their states in order, what the last state rests on, and where it applies.
IMAGE_STATES = ("cold", "warming", "cached")
MODEL_STATES = ("cold", "warming", "served")
IMAGE_FACTS = {"evidence": "inferred", "scope": "new-instances"}
MODEL_FACTS = {"evidence": "observed", "scope": "running-instances"}


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    cfg = settings()
    bind(endpoint=cfg.endpoint)
    parsed = parse_eventbridge(event, contract.COMPONENT_API_CALLS)
    bind(event_id=parsed.event_id)
    store = StateStore(aws.dynamodb(), cfg.table_name, cfg.endpoint, cfg.history_ttl_days)
    try:
        if isinstance(parsed, EndpointStateEvent):
            return _endpoint_state(parsed, cfg, store)
        if isinstance(parsed, ApiCallEvent):
            return _api_call(parsed, cfg, store)
        return _poll(parsed, cfg, store)
    except EndpointGone:
        # Cleanup ran while this look was under way: its tombstone refused the write.
        logger.info("endpoint deleted meanwhile: nothing written")
        return {"action": "ignored", "reason": "EndpointDeleted"}


def _endpoint_state(event: EndpointStateEvent, cfg: Settings, store: StateStore) -> dict[str, Any]:
    if event.endpoint != cfg.endpoint:
        raise ForeignEndpoint(
            f"state change of endpoint {event.endpoint!r} reached "
            f"{cfg.endpoint!r}'s tracker; nothing changed"
        )
    if event.status.upper() == "DELETING":
        # Cleanup owns the end of an endpoint; writing now could outlive its purge.
        return {"action": "ignored", "status": event.status}
    sagemaker = aws.sagemaker()
    endpoint = live_endpoint(sagemaker, cfg, store)
    if endpoint is None:
        return {"action": "ignored", "reason": "EndpointNotLive"}
    store.observe("ENDPOINT", {"status": event.status, "observed_at": clock.now()})
    return {"action": "observed", "components": _observe_all(cfg, store, sagemaker, endpoint)}


def _api_call(event: ApiCallEvent, cfg: Settings, store: StateStore) -> dict[str, Any]:
    if event.endpoint is not None and event.endpoint != cfg.endpoint:
        raise ForeignEndpoint(
            f"{event.event_name} on endpoint {event.endpoint!r} reached "
            f"{cfg.endpoint!r}'s tracker; nothing changed"
        )
    if event.component is None:
        return {"action": "observed", "components": observe_all(cfg, store)}
    component = cfg.component(event.component)
    bind(component=component.name)
    if event.error_code:
        return {"action": "ignored", "error_code": event.error_code}
    sagemaker = aws.sagemaker()
    endpoint = live_endpoint(sagemaker, cfg, store)
    if endpoint is None:
        return {"action": "ignored", "reason": "EndpointNotLive"}
    if event.event_name == "DeleteInferenceComponent":
        store.observe(
            f"COMPONENT#{component.name}",
            {
                "observed_status": "Deleted",
                "observed_desired": 0,
                "observed_current": 0,
                "observed_at": clock.now(),
            },
        )
        return {"action": "deleted", "component": component.name}
    instances = _instances(endpoint)
    return {
        "action": "observed",
        "components": [observe(cfg, store, component, instances, sagemaker)],
    }


def _poll(event: ScheduledEvent, cfg: Settings, store: StateStore) -> dict[str, Any]:
    return {"action": "polled", "components": observe_all(cfg, store)}


def _instances(endpoint: aws.EndpointObservation) -> int | None:
    if endpoint.current_instances is not None:
        emit(contract.METRIC_INSTANCES, endpoint.current_instances, endpoint=endpoint.name)
    return endpoint.current_instances


def live_endpoint(
    sagemaker: SageMakerClient, cfg: Settings, store: StateStore
) -> aws.EndpointObservation | None:
    """The endpoint when the tracker may write for it, else ``None``: it does not exist, it
    is ``Deleting``, or it is the one the tombstone says was deleted (created before it).

    An endpoint created after the tombstone's ``deleted_at`` is a new one of the same name:
    the tombstone goes (conditionally: a newer deletion recorded meanwhile stays) and the new
    endpoint's rows start from nothing, so no row of the old one can mislead it.
    """
    try:
        endpoint = aws.describe_endpoint(sagemaker, cfg.endpoint)
    except aws.NotFound:
        logger.info("endpoint not found: nothing observed")
        return None
    if endpoint.status == "Deleting":
        logger.info("endpoint being deleted: nothing observed")
        return None
    deleted_at = store.deleted_at()
    if deleted_at is None:
        return endpoint
    if endpoint.created_at is None or endpoint.created_at <= deleted_at:
        logger.info(
            "endpoint was deleted (tombstone): nothing observed",
            extra={"deleted_at": deleted_at, "created_at": endpoint.created_at},
        )
        return None
    if not store.clear_tombstone(deleted_at):
        return None
    logger.info(
        "new endpoint of a deleted one's name: tombstone removed",
        extra={"deleted_at": deleted_at, "created_at": endpoint.created_at},
    )
    return endpoint


def observe_all(cfg: Settings, store: StateStore) -> list[dict[str, Any]]:
    """Observe every component of the endpoint (the polling fallback); nothing unless the
    endpoint is live, so the 1-minute poll never re-creates rows cleanup purged."""
    sagemaker = aws.sagemaker()
    endpoint = live_endpoint(sagemaker, cfg, store)
    if endpoint is None:
        return []
    return _observe_all(cfg, store, sagemaker, endpoint)


def _observe_all(
    cfg: Settings, store: StateStore, sagemaker: SageMakerClient, endpoint: aws.EndpointObservation
) -> list[dict[str, Any]]:
    instances = _instances(endpoint)
    if instances is not None:
        store.observe("ENDPOINT", {"instances": instances, "observed_at": clock.now()})
    return [observe(cfg, store, c, instances, sagemaker) for c in cfg.components.values()]


def observe(
    cfg: Settings,
    store: StateStore,
    component: Component,
    instances: int | None,
    sagemaker: SageMakerClient,
) -> dict[str, Any]:
    """One look at ``component``: record it, advance cache states, close a pending scale-out."""
    now = clock.now()
    try:
        observed = aws.describe_component(sagemaker, component.name)
    except aws.NotFound:
        # Nothing written: a component that is gone (or an endpoint being deleted) must not
        # leave rows behind (the scaler reads a missing cache row as "not known").
        return {"component": component.name, "status": "absent"}
    if observed.endpoint != cfg.endpoint:
        raise ForeignEndpoint(
            f"inference component {component.name!r} belongs to endpoint "
            f"{observed.endpoint!r}, not {cfg.endpoint!r}; nothing changed"
        )
    emit(
        contract.METRIC_DESIRED_COPIES,
        observed.desired_copies,
        endpoint=cfg.endpoint,
        component=component.name,
    )
    emit(
        contract.METRIC_CURRENT_COPIES,
        observed.current_copies,
        endpoint=cfg.endpoint,
        component=component.name,
    )
    image_row = store.get(f"IMAGE#{component.image}")
    image_was_cached = bool(image_row and image_row.get("state") == "cached")
    stage = 2 if observed.current_copies >= 1 else 1 if observed.desired_copies > 0 else 0
    cache_state = IMAGE_STATES[stage]
    _advance(store, f"IMAGE#{component.image}", IMAGE_STATES, stage, IMAGE_FACTS, now, image_row)
    _advance(store, f"MODEL#{component.model}", MODEL_STATES, stage, MODEL_FACTS, now)
    values: dict[str, Any] = {
        "observed_status": observed.status,
        "observed_desired": observed.desired_copies,
        "observed_current": observed.current_copies,
        "observed_at": now,
    }
    if instances is not None:
        values["observed_instances"] = instances
    store.observe(f"COMPONENT#{component.name}", values)
    result: dict[str, Any] = {
        "component": component.name,
        "status": observed.status,
        "desired_copies": observed.desired_copies,
        "current_copies": observed.current_copies,
        "cache_state": cache_state,
    }
    state = store.load_component(component.name)
    finished = _finish_scale_out(cfg, store, state, observed, instances, image_was_cached, now)
    if finished:
        result["scale_out"] = finished
    return result


def _advance(
    store: StateStore,
    sk: str,
    states: tuple[str, ...],
    stage: int,
    facts: dict[str, str],
    now: float,
    row: dict[str, Any] | None = None,
) -> None:
    """Move a cache row forward only (the last state never goes back), saying what it rests
    on (``facts``). A state the row's kind does not have (``cached`` on a ``MODEL#`` row an
    older tracker wrote) is replaced."""
    row = row if row is not None else store.get(sk)
    old = states.index(row["state"]) if row and row.get("state") in states else -1
    if old >= stage and row and all(row.get(k) == v for k, v in facts.items()):
        return
    state = states[max(old, stage)]
    values: dict[str, Any] = {"state": state, **facts}
    if old < stage:
        values[f"{state}_at"] = now
    if row is None:
        values["first_seen_at"] = now
    store.observe(sk, values)


def _finish_scale_out(
    cfg: Settings,
    store: StateStore,
    state: ComponentState,
    observed: aws.ComponentObservation,
    instances: int | None,
    image_was_cached: bool,
    now: float,
) -> dict[str, Any] | None:
    timed = time_scale_out(state, observed.current_copies, instances, image_was_cached, now)
    if timed is None:
        return None
    seconds, path = timed.seconds, timed.path
    record = timed.record(now)
    try:
        # Conditional on the version: a newer scale-out recorded meanwhile keeps its pending.
        store.commit_component(state.name, state.version, record.values, record.remove)
    except Conflict:
        return None
    store.put_history(
        "SCALEOUT",
        timed.since,
        state.name,
        {
            "seconds": seconds,
            "path": path,
            "target_copies": state.pending_target,
            "observed_at": now,
        },
    )
    emit(
        contract.METRIC_SCALE_OUT_SECONDS,
        seconds,
        "Seconds",
        endpoint=cfg.endpoint,
        component=state.name,
        path=path,
    )
    logger.info(
        "scale-out finished",
        extra={"seconds": seconds, "path": path, "target_copies": state.pending_target},
    )
    return {"seconds": seconds, "path": path, "target_copies": state.pending_target}
