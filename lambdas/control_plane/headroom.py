"""Spare capacity above the demand-sized fleet, stated as copies or as a GPU-hour budget."""

from __future__ import annotations

import math

from .checks import count, finite


def with_headroom(
    copies: int,
    *,
    max_copies: int,
    headroom_copies: int = 0,
    headroom_percent: float = 0.0,
) -> int:
    """``copies`` plus the larger of ``headroom_copies`` and ``headroom_percent`` of them,
    at most ``max_copies`` (and never fewer than ``copies``).

    The percentage is a GPU-hour budget, so it rounds down: 20 % over 12 copies adds 2
    (2.4 rounded down), over 4 copies 0. Stated both ways, the larger applies: 4 copies with
    ``headroom_copies=1`` and 20 % give 5. A fleet sized to zero stays at zero: headroom is
    spare capacity beside serving copies, not a floor (``min_copies`` is the floor).
    """
    demand = count("copies", copies)
    cap = count("max_copies", max_copies)
    spare = count("headroom_copies", headroom_copies)
    percent = finite("headroom_percent", headroom_percent, minimum=0)
    if demand == 0:
        return 0
    # round() first: 20 % of 5 is 0.9999999999999999 in floats, and must still be 1
    by_budget = math.floor(round(demand * percent / 100, 9))
    return max(demand, min(cap, demand + max(spare, by_budget)))
