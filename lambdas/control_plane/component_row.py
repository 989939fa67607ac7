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


def component_from(name: str, item: Mapping[str, Any]) -> ComponentState:
    """The row ``item`` (plain values) as a ``ComponentState``; a value of the wrong type reads
    as absent."""

    def num(key: str) -> float | None:
        value = item.get(key)
        return float(value) if isinstance(value, int | float) else None

    def whole(key: str) -> int | None:
        value = num(key)
        return int(value) if value is not None else None

    ready = {
        k.removeprefix("ready_s_"): float(v)
        for k, v in item.items()
        if k.startswith("ready_s_") and isinstance(v, int | float)
    }
    path = item.get("pending_path")
    return ComponentState(
        name=name,
        version=whole("version") or 0,
        scaler_copies=whole("scaler_copies"),
        scaler_set_at=num("scaler_set_at"),
        last_scale_out_at=num("last_scale_out_at"),
        last_scale_in_at=num("last_scale_in_at"),
        observed_ready_s=ready,
        pending_since=num("pending_since"),
        pending_target=whole("pending_target"),
        pending_path=path if isinstance(path, str) else None,
        pending_instances=whole("pending_instances"),
        observed_desired=whole("observed_desired"),
        observed_current=whole("observed_current"),
    )
