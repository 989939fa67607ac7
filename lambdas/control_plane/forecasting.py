"""One forecaster run for one endpoint: history in, a floor per component out, copies raised.

For each component whose spec has a forecast schedule (``forecast_interval_s``):

1. the predicted ready time of new copies: the cold path a new instance would take (``cached``
   once the endpoint's ``IMAGE#`` row says so, else ``uncached``; the slower path looks further
   ahead), from this endpoint's observed timings on the component's row weighted against the
   cold-start model's prior (``lookahead.predicted_ready_s``);
2. its per-minute ``Invocations`` on up to ``forecast_history_days`` previous days, over the
   minutes from now to now + ready time + interval (``forecast_history``);
3. the floor: ``forecast.forecast_floor`` of that history, each predicted rate (invocations per
   minute / 60) turned into copies by ``sizing.copies_for_slo`` with the spec's copy model and
   SLO, plus the spec's headroom (``headroom.with_headroom``); never below ``min_copies``,
   never above ``max_copies``;
4. the recent bursts: the minutes of the last 6 hours at which the copies the traffic needs
   (the same sizing) rose above the base (``min_copies``, at least 1): ``bursts.burst_starts``;
   with burst hold on, the floor is at least the recent peak: what scale-out asks for at the
   busiest minute of the endpoint's instance release cooldown (``bursts.recent_peak``); steps 3
   and 4 are ``forecast_plan.plan``, which the simulator calls too;
5. floor and burst starts go on the component's row (``bookkeeping.forecast_record``: the
   floor is valid for two intervals, so one lost run does not drop it and a stopped
   forecaster's floor lapses), where scale-in respects them, and the floor is the
   ``ForecastFloor`` metric;
6. if the floor is above the copies asked for, the count is raised to it (``forecast_raise``).

Fail safe: no history (neither for the coming minutes, nor a recent burst, nor a recent minute)
writes nothing and changes nothing. A metrics
read that fails (throttled, refused, unreachable), a table that cannot be read, or any error
for one component is logged and counted in ``ScalingErrors`` and changes nothing; nothing is
raised, so the schedule keeps running and a forecast never removes capacity.
"""

from __future__ import annotations

from . import aws, contract
from .bookkeeping import forecast_record, history_from
from .decision import Path, ScalingSpec
from .evaluation_types import Outcome
from .forecast_history import read_history, recent, within_days
from .forecast_plan import copies_for, plan
from .forecast_raise import raise_to_floor
from .lookahead import predicted_ready_s
from .observability import bind, emit, logger
from .settings import Component, Settings
from .state import ComponentState, StateStore, StateUnavailable, component_key


def ready_time(spec: ScalingSpec, row: ComponentState, image_cached: bool, now: float) -> float:
    """Seconds a new instance's copy is expected to take (see the module doc, step 1)."""
    path = Path.CACHED if image_cached else Path.UNCACHED
    history = history_from(row)
    seconds = history.observed_ready_s.get(path.value)
    observed = []
    if seconds is not None:
        observed.append((history.observed_ready_at.get(path.value, now), seconds))
    return predicted_ready_s(observed, spec.ready_s.for_path(path), now)


def run(cfg: Settings, store: StateStore, now: float) -> list[Outcome]:
    """Forecast every component of ``cfg``'s endpoint; one outcome per component."""
    planned = [c for c in cfg.components.values() if c.spec.forecast_interval_s]
    outcomes = [
        Outcome(c.name, "skipped", "ForecastOff")
        for c in cfg.components.values()
        if not c.spec.forecast_interval_s
    ]
    if not planned:
        return outcomes
    try:
        rows = store.load_components()
        cached = {c.name: _image_cached(store, c) for c in planned}
    except StateUnavailable as exc:
        return outcomes + _failed(cfg, planned, "StateUnavailable", exc)
    ready = {
        c.name: ready_time(c.spec, rows.get(c.name, ComponentState(c.name)), cached[c.name], now)
        for c in planned
    }
    horizons = {c.name: ready[c.name] + _interval(c) for c in planned}
    try:
        history = read_history(
            aws.cloudwatch(),
            [c.name for c in planned],
            now,
            days=max(c.spec.forecast_history_days for c in planned),
            horizon_s=max(horizons.values()),
        )
    except Exception as exc:  # throttled, refused, unreachable: no forecast this time
        return outcomes + _failed(cfg, planned, "MetricsUnavailable", exc)
    for c in planned:
        bind(component=c.name)
        try:
            series = within_days(history[c.name], now, c.spec.forecast_history_days)
            outcomes.append(_one(cfg, store, c, series, ready[c.name], now))
        except Exception as exc:  # one component's failure never stops the others
            outcomes.extend(_failed(cfg, [c], type(exc).__name__, exc))
    return outcomes


def _one(
    cfg: Settings,
    store: StateStore,
    component: Component,
    series: list[tuple[float, float]],
    ready_s: float,
    now: float,
) -> Outcome:
    spec = component.spec
    interval = _interval(component)
    needed = copies_for(spec)
    if needed is None:
        return Outcome(component.name, "skipped", "NoCopyModel", detail="slo_sizing is off")
    planned = plan(series, recent(series, now), now, spec, ready_s=ready_s, needed=needed)
    if planned is None:
        logger.info("no history for the coming minutes, no recent burst: nothing forecast")
        return Outcome(component.name, "held", "NoHistory", detail=f"{len(series)} datapoints")
    floor, predicted, starts = planned.floor, planned.predicted, planned.bursts
    store.observe(
        component_key(component.name), forecast_record(floor, starts, now, interval).values
    )
    emit(contract.METRIC_FORECAST_FLOOR, floor, endpoint=cfg.endpoint, component=component.name)
    extra: dict[str, float] = {
        "floor": floor,
        "ready_s": round(ready_s, 1),
        "bursts": len(starts),
        "held": planned.held,
    }
    if predicted is None:
        detail = (
            f"no history for the coming minutes; {len(starts)} recent bursts, "
            f"recent peak {planned.held}: floor {floor}"
        )
        if planned.held <= 0:  # the floor is min_copies: nothing to raise to
            return Outcome(component.name, "held", "NoHistory", floor, detail=detail, extra=extra)
    else:
        detail = (
            f"{predicted:.0f} invocations/min predicted within {ready_s + interval:.0f} s "
            f"(ready {ready_s:.0f} s + interval {interval} s), recent peak {planned.held}: "
            f"floor {floor}"
        )
        logger.info("forecast", extra={"per_minute": predicted, **extra})
        extra["per_minute"] = round(predicted, 1)
    outcome = raise_to_floor(cfg, store, component, floor, now)
    outcome.detail = f"{detail}; {outcome.detail}" if outcome.detail else detail
    outcome.extra.update(extra)
    return outcome


def _interval(component: Component) -> int:
    return int(component.spec.forecast_interval_s or 0)


def _image_cached(store: StateStore, component: Component) -> bool:
    row = store.get(f"IMAGE#{component.image}")
    return row is not None and row.get("state") == "cached"


def _failed(
    cfg: Settings, components: list[Component], reason: str, exc: Exception
) -> list[Outcome]:
    """Nothing changed for ``components``: logged and counted, never raised."""
    logger.error("forecast failed: nothing changed", extra={"reason": reason, "error": str(exc)})
    for c in components:
        emit(contract.METRIC_SCALING_ERRORS, 1, endpoint=cfg.endpoint, component=c.name)
    return [Outcome(c.name, "error", reason, detail=str(exc)[:500]) for c in components]
