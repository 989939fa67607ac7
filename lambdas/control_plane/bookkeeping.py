"""What an applied decision leaves behind on its component's row, and the History read back.

Pure, like ``decision``: the scaler commits a ``Record`` to the state table's ``COMPONENT#``
row, and the simulator applies the same ``Record`` to an in-memory row; both then read the
next decision's ``History`` with ``history_from``. So cooldowns and pending scale-outs evolve
by one rule in the Lambda and in the simulation.

The row is anything with the component row's attributes (``state.ComponentState`` is the one
both use): ``last_scale_out_at`` and ``last_scale_in_at`` start the cooldowns;
``scaler_copies`` and ``scaler_set_at`` are the last target set (Reconcile restores it);
``pending_*`` describe the scale-out still arriving (the cache tracker closes it when the copies
serve); ``observed_ready_s`` holds the tracker's measured ready times by path (attributes
``ready_s_<path>``) and ``observed_ready_at`` when each was last measured (``ready_at_<path>``).
The forecaster writes ``forecast_floor_copies`` and ``forecast_floor_until`` (the copies
scale-in keeps, and until when) and ``burst_starts`` (recent bursts' starts, as text) with
``forecast_record``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .decision import Decision, History, Path, Snapshot

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from .state import ComponentState

# The pending scale-out: set by a scale-out, removed by a scale-in (and by the tracker once the
# copies serve).
PENDING_FIELDS = ("pending_since", "pending_target", "pending_path", "pending_instances")
# Every attribute a decision's record may change; an undo puts exactly these back.
DECISION_FIELDS = (
    "scaler_copies",
    "scaler_set_at",
    "last_scale_out_at",
    "last_scale_in_at",
    *PENDING_FIELDS,
)


class ComponentRow(Protocol):
    """The attributes of a component row that History is read from."""

    @property
    def last_scale_out_at(self) -> float | None: ...
    @property
    def last_scale_in_at(self) -> float | None: ...
    @property
    def observed_ready_s(self) -> Mapping[str, float]: ...
    @property
    def observed_ready_at(self) -> Mapping[str, float]: ...
    @property
    def forecast_floor_copies(self) -> int | None: ...
    @property
    def forecast_floor_until(self) -> float | None: ...
    @property
    def burst_starts(self) -> str: ...


@dataclass(frozen=True)
class Record:
    """A change to a component row: attributes set to ``values``, attributes in ``remove``
    deleted (in the table: one conditional ``UpdateItem``; in memory: ``apply_record``)."""

    values: Mapping[str, Any]
    remove: tuple[str, ...] = ()


def decision_record(decision: Decision, snapshot: Snapshot, now: float) -> Record:
    """What applying ``decision`` at ``now`` records on its component's row.

    Every change records its target (``scaler_copies``, ``scaler_set_at``). A scale-out starts
    the scale-out cooldown and a pending scale-out (since, target, predicted path, instances
    before it) for the tracker to time; a scale-in (a clamp down included) starts the scale-in
    cooldown and drops any pending scale-out, whose target it no longer reaches.
    """
    values: dict[str, Any] = {"scaler_copies": decision.target_copies, "scaler_set_at": now}
    if decision.delta <= 0:
        values["last_scale_in_at"] = now
        return Record(values, PENDING_FIELDS)
    path = decision.placement.path or Path.WARM_INSTANCE
    values.update(
        last_scale_out_at=now,
        pending_since=now,
        pending_target=decision.target_copies,
        pending_path=path.value,
    )
    if snapshot.instances is not None:
        values["pending_instances"] = snapshot.instances
    return Record(values)


def undo_record(before: object) -> Record:
    """The record that puts a row's ``DECISION_FIELDS`` back as they were in ``before`` (a row
    read before the decision was recorded): for an update that did not happen."""
    values: dict[str, Any] = {}
    remove: list[str] = []
    for key in DECISION_FIELDS:
        old = getattr(before, key, None)
        if old is None:
            remove.append(key)
        else:
            values[key] = old
    return Record(values, tuple(remove))


RowT = TypeVar("RowT", bound="DataclassInstance")


def apply_record(row: RowT, record: Record) -> RowT:
    """An in-memory row (a dataclass such as ``state.ComponentState``) after ``record``, as the
    table's row is after the scaler commits it: set values replace, removed ones become None."""
    changes = {key: None for key in record.remove}
    changes.update(record.values)
    return dataclasses.replace(row, **changes)


def history_from(row: ComponentRow, complete: bool = True) -> History:
    """The ``History`` a decision sees from its component's row (``complete=False`` when the
    table could not be read, so that scale-in holds)."""
    return History(
        row.last_scale_out_at,
        row.last_scale_in_at,
        dict(row.observed_ready_s),
        dict(row.observed_ready_at),
        complete=complete,
        forecast_floor_copies=row.forecast_floor_copies,
        forecast_floor_until=row.forecast_floor_until,
        burst_starts=parse_burst_starts(row.burst_starts),
    )


# How much a new observed scale-out time moves the remembered one: halfway, so one outlier
# (a slow instance) does not dominate and two agreeing observations nearly replace it.
READY_SMOOTHING = 0.5


@dataclass(frozen=True)
class ScaleOutTimed:
    """A pending scale-out seen finished: how long it took, by which path, and the smoothed
    ready time the row remembers for that path from now on."""

    seconds: float
    path: str
    remembered: float
    since: float  # when the scale-out was decided (its SCALEOUT# history row's time)

    def record(self, now: float) -> Record:
        """The table's change: ``ready_s_<path>`` and ``ready_at_<path>`` set, the pending
        scale-out removed (``apply_timing`` is the same change on an in-memory row)."""
        return Record(
            {f"ready_s_{self.path}": self.remembered, f"ready_at_{self.path}": now},
            PENDING_FIELDS,
        )


def observed_path(row: object, instances: int | None, image_was_cached: bool) -> str:
    """How the copies of a finished scale-out came up.

    No new instance since the decision: ``warm_instance``. Otherwise the scaler's predicted
    cold path if it predicted one, else what the image cache said before this observation.
    """
    pending_instances = getattr(row, "pending_instances", None)
    pending_path = getattr(row, "pending_path", None)
    if instances is not None and pending_instances is not None:
        if instances <= pending_instances:
            return "warm_instance"
        if pending_path in ("cached", "uncached"):
            return str(pending_path)
        return "cached" if image_was_cached else "uncached"
    # Instances unknown: trust the path the scaler predicted.
    return str(pending_path or ("cached" if image_was_cached else "uncached"))


def time_scale_out(
    row: ComponentRow,
    current_copies: int,
    instances: int | None,
    image_was_cached: bool,
    now: float,
) -> ScaleOutTimed | None:
    """The row's pending scale-out timed, if ``current_copies`` reached its target; else None.

    The cache tracker calls it on each observation and the simulator on its polling schedule.
    Pending since 1000, target 3 reached at 1270 on a new cached instance, 250 s remembered:
    270 s taken, 260 s remembered (``READY_SMOOTHING`` halfway).
    """
    target = getattr(row, "pending_target", None)
    since = getattr(row, "pending_since", None)
    if target is None or since is None or current_copies < target:
        return None
    seconds = max(0.0, now - since)
    path = observed_path(row, instances, image_was_cached)
    old = row.observed_ready_s.get(path)
    remembered = seconds if old is None else old + READY_SMOOTHING * (seconds - old)
    return ScaleOutTimed(seconds, path, remembered, since)


def apply_timing(row: ComponentState, timed: ScaleOutTimed, now: float) -> ComponentState:
    """An in-memory row (``state.ComponentState``) after ``timed.record(now)``: the path's
    ready time and its time replaced, the pending scale-out gone."""
    ready_s = {**row.observed_ready_s, timed.path: timed.remembered}
    ready_at = {**row.observed_ready_at, timed.path: now}
    changes: dict[str, Any] = {key: None for key in PENDING_FIELDS}
    changes.update(observed_ready_s=ready_s, observed_ready_at=ready_at)
    return dataclasses.replace(row, **changes)


# Burst starts kept on the row: enough gaps for a pattern (bursts.DEFAULT_MIN_GAPS is 3) and
# for the hazard to average over, within the row's 400 KB many times over.
MAX_BURST_STARTS = 20
FORECAST_FIELDS = ("forecast_floor_copies", "forecast_floor_until", "burst_starts")


def forecast_record(
    floor_copies: int, burst_starts: Sequence[float], now: float, interval_s: float
) -> Record:
    """What one forecaster run at ``now`` records on its component's row: the copies scale-in
    must keep (``forecast.forecast_floor`` with ``held_copies=min_copies``), valid for two of
    its intervals so that one missed run keeps it and a stopped forecaster lets it lapse; and
    the latest ``MAX_BURST_STARTS`` burst starts (``bursts.burst_starts``) as text.

    A run at 1000 with a 300 s interval: the floor holds until 1600.
    """
    starts = sorted(float(s) for s in burst_starts if math.isfinite(s))[-MAX_BURST_STARTS:]
    return Record(
        {
            "forecast_floor_copies": max(0, int(floor_copies)),
            "forecast_floor_until": now + 2 * interval_s,
            "burst_starts": " ".join(f"{s:.0f}" for s in starts),
        }
    )


def parse_burst_starts(text: str | None) -> tuple[float, ...]:
    """The burst starts ``forecast_record`` wrote, oldest first; what is not a finite number
    (a hand-edited row) is left out rather than failing the decision."""
    starts: list[float] = []
    for word in (text or "").split():
        try:
            value = float(word)
        except ValueError:
            continue
        if math.isfinite(value):
            starts.append(value)
    return tuple(sorted(starts))
