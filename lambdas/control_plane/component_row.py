"""The ``COMPONENT#<name>`` row of the state table as a typed ``ComponentState``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def component_key(name: str) -> str:
    """The sort key of ``name``'s row."""
    return f"COMPONENT#{name}"


@dataclass(frozen=True)
class ComponentState:
    """What the table remembers about one component (all fields optional: rows start empty)."""

    name: str
    version: int = 0
    scaler_copies: int | None = None
    scaler_set_at: float | None = None
    last_scale_out_at: float | None = None
    last_scale_in_at: float | None = None
    observed_ready_s: Mapping[str, float] = field(default_factory=dict)
    pending_since: float | None = None
    pending_target: int | None = None
    pending_path: str | None = None
    pending_instances: int | None = None
    observed_desired: int | None = None
    observed_current: int | None = None
    observed_ready_at: Mapping[str, float] = field(default_factory=dict)  # ready_at_<path>
    forecast_floor_copies: int | None = None  # written by the forecaster (bookkeeping)
    forecast_floor_until: float | None = None
    burst_starts: str = ""  # recent burst starts, as text (bookkeeping.parse_burst_starts)


def prefixed_numbers(item: Mapping[str, Any], prefix: str) -> dict[str, float]:
    """The numbers of a row whose attribute names start with ``prefix``, by the rest of the
    name: ``{"ready_at_cached": 5.0}`` with ``"ready_at_"`` gives ``{"cached": 5.0}``."""
    return {
        k.removeprefix(prefix): float(v)
        for k, v in item.items()
        if k.startswith(prefix) and isinstance(v, int | float) and not isinstance(v, bool)
    }


def component_from(name: str, item: Mapping[str, Any]) -> ComponentState:
    """The row ``item`` (plain values) as a ``ComponentState``; a value of the wrong type reads
    as absent."""

    def num(key: str) -> float | None:
        value = item.get(key)
        return float(value) if isinstance(value, int | float) else None

    def whole(key: str) -> int | None:
        value = num(key)
        return int(value) if value is not None else None

    path = item.get("pending_path")
    return ComponentState(
        name=name,
        version=whole("version") or 0,
        scaler_copies=whole("scaler_copies"),
        scaler_set_at=num("scaler_set_at"),
        last_scale_out_at=num("last_scale_out_at"),
        last_scale_in_at=num("last_scale_in_at"),
        observed_ready_s=prefixed_numbers(item, "ready_s_"),
        pending_since=num("pending_since"),
        pending_target=whole("pending_target"),
        pending_path=path if isinstance(path, str) else None,
        pending_instances=whole("pending_instances"),
        observed_desired=whole("observed_desired"),
        observed_current=whole("observed_current"),
        observed_ready_at=prefixed_numbers(item, "ready_at_"),
        forecast_floor_copies=whole("forecast_floor_copies"),
        forecast_floor_until=num("forecast_floor_until"),
        burst_starts=str(item.get("burst_starts") or ""),
    )
