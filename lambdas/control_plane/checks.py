"""Input checks shared by the sizing, lookahead and forecast rules.

Each raises ``ValueError`` naming the argument, the value it got and what is allowed, before
anything is computed: a NaN that slipped through would otherwise turn into a copy count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def finite(name: str, value: float, *, minimum: float | None = None) -> float:
    """``value`` as a float if it is a finite number (at least ``minimum`` when given)."""
    if type(value) is float and math.isfinite(value) and (minimum is None or value >= minimum):
        return value  # the common case first: the forecaster checks every minute of its history
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return float(value)


def finite_series(
    name: str, series: Iterable[tuple[float, float]], *, minimum: float | None = None
) -> list[tuple[float, float]]:
    """``series`` (timestamp, value) pairs as floats if every one is finite (each value at least
    ``minimum`` when given); the error names the pair: ``series[3] value must be ...``. The
    forecaster checks every minute of its recent history on every run, so the common case
    builds no message."""
    out: list[tuple[float, float]] = []
    for i, (timestamp, value) in enumerate(series):
        if (
            type(timestamp) is float
            and type(value) is float
            and math.isfinite(timestamp)
            and math.isfinite(value)
            and (minimum is None or value >= minimum)
        ):
            out.append((timestamp, value))
        else:
            out.append(
                (
                    finite(f"{name}[{i}] timestamp", timestamp),
                    finite(f"{name}[{i}] value", value, minimum=minimum),
                )
            )
    return out


def positive(name: str, value: float) -> float:
    """``value`` as a float if it is finite and greater than zero."""
    number = finite(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be greater than 0, got {value!r}")
    return number


def fraction(name: str, value: float) -> float:
    """``value`` if it lies strictly between 0 and 1."""
    number = finite(name, value)
    if not 0 < number < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return number


def probability(name: str, value: float) -> float:
    """``value`` if it lies in (0, 1]: 1 asks for certainty, 0 would ask for nothing."""
    number = finite(name, value)
    if not 0 < number <= 1:
        raise ValueError(f"{name} must be greater than 0 and at most 1, got {value!r}")
    return number


def count(name: str, value: int, *, minimum: int = 0) -> int:
    """``value`` if it is an integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return value
