"""Recurring load: predict the coming minutes from the same minutes of previous days.

Daily and weekly peaks recur. A forecaster that runs every few minutes reads the component's
per-minute history (up to two weeks), predicts the demand over the time a new copy needs to
become ready plus its own interval, and raises the copy count so that capacity serves when the
peak starts instead of a cold start after it. A forecast never removes capacity: it only ever
raises the floor, and with no history it does nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from .checks import count, finite, finite_series

DAY_S = 86400
MINUTE_S = 60
DEFAULT_DAYS = 14
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def _median(values: list[float]) -> float:
    """The middle value (mean of the two middle ones); ``statistics`` would add 3 ms of import."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def is_weekend(timestamp_s: float, utc_offset_s: float = 0.0) -> bool:
    """Saturday or Sunday at ``timestamp_s`` in the zone ``utc_offset_s`` east of UTC."""
    day = math.floor((timestamp_s + utc_offset_s) / DAY_S)
    return (day + _EPOCH_WEEKDAY) % 7 >= 5


def minute_index(history: Sequence[tuple[float, float]]) -> dict[int, float]:
    """History as {minute since the epoch: value}, the larger value where a minute repeats.

    The simulator keeps one and adds a minute at a time instead of rebuilding it per forecast.
    """
    by_minute: dict[int, float] = {}
    for timestamp, level in finite_series("history", history, minimum=0):
        minute = math.floor(timestamp / MINUTE_S)
        by_minute[minute] = max(level, by_minute.get(minute, 0.0))
    return by_minute


def forecast(
    history: Sequence[tuple[float, float]] | Mapping[int, float],
    now: float,
    horizon_s: float,
    *,
    days: int = DEFAULT_DAYS,
    utc_offset_s: float = 0.0,
) -> float | None:
    """The highest demand predicted for any minute from ``now`` to ``now + horizon_s``.

    ``history`` holds (timestamp, value) per minute, any order, values in the unit to predict
    (``Invocations`` per minute, say), or a ``minute_index`` of them. Each coming minute is
    predicted by the median of the same minute of day over the last ``days`` days: a one-off
    spike on one day does not move it. When at least two of those days are of the same kind
    (weekday or weekend) as the coming minute, only those count, so weekends are not predicted
    from weekdays once a week of history exists. None when no previous day has that minute:
    the forecaster then does nothing.

    Weekdays at 60 per minute overnight and 600 from 09:00 to 17:00, weekends 120 all day:
    on a Tuesday at 08:50 with a 20-minute horizon the prediction is 600 (09:00 to 09:10 of the
    previous days); on a Saturday at 08:50 with a week of history, 120 (last Saturday and
    Sunday); with only Wednesday to Friday behind it, 600.
    """
    at = finite("now", now)
    horizon = finite("horizon_s", horizon_s, minimum=0)
    if horizon > DAY_S:
        raise ValueError(f"horizon_s must be at most one day ({DAY_S} s), got {horizon_s!r}")
    count("days", days, minimum=1)
    offset = finite("utc_offset_s", utc_offset_s)
    by_minute = history if isinstance(history, Mapping) else minute_index(history)
    first = math.floor(at / MINUTE_S)
    per_day = DAY_S // MINUTE_S
    peak: float | None = None
    for minute in range(first, math.floor((at + horizon) / MINUTE_S) + 1):
        weekend = is_weekend(minute * MINUTE_S, offset)
        same_kind, every_day = [], []
        for back in range(1, days + 1):
            earlier = minute - back * per_day
            if earlier >= first or earlier not in by_minute:
                continue  # only minutes already past count
            every_day.append(by_minute[earlier])
            if is_weekend(earlier * MINUTE_S, offset) == weekend:
                same_kind.append(by_minute[earlier])
        samples = same_kind if len(same_kind) >= 2 else every_day
        if samples:
            predicted = _median(samples)
            peak = predicted if peak is None else max(peak, predicted)
    return peak


def forecast_floor(
    history: Sequence[tuple[float, float]] | Mapping[int, float],
    now: float,
    *,
    ready_s: float,
    interval_s: float,
    copies_for: Callable[[float], int],
    held_copies: int,
    max_copies: int,
    utc_offset_s: float = 0.0,
) -> int:
    """The copies to hold now so that a predicted rise is served when it starts.

    Looks ``ready_s`` (the predicted ready time of the path new copies would take) plus
    ``interval_s`` (until the forecaster runs again) ahead, turns the predicted peak into
    copies with ``copies_for`` (for example ``copies_for_slo`` on ``Invocations / 60``), caps
    them at ``max_copies`` and never returns fewer than ``held_copies``: what the alarms hold
    stays. No history: ``held_copies``.

    The weekday series above, copies_for = ceil(per minute / 120) (2 requests/s per copy):
    with a 258 s ready time and a 5-minute interval, the 08:50 run looks to 08:59:18 and holds
    the 1 copy the alarms hold; the 08:55 run looks to 09:04, predicts 600 per minute and
    raises to 5 copies, serving from 08:59:18; at 17:30, 1 (nothing raised: scale-in releases
    copies as the alarms say).
    Passing ``held_copies=min_copies`` gives the floor scale-in must respect.
    """
    held = count("held_copies", held_copies)
    cap = count("max_copies", max_copies)
    horizon = finite("ready_s", ready_s, minimum=0) + finite("interval_s", interval_s, minimum=0)
    predicted = forecast(history, now, horizon, utc_offset_s=utc_offset_s)
    if predicted is None:
        return held
    needed = count("copies_for(predicted)", copies_for(predicted))
    return max(held, min(cap, needed))
