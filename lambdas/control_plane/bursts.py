"""Recurring bursts: hold capacity through a lull that recent history says ends soon.

Bursts that recur at similar intervals do not line up with the clock, so the daily forecast
misses them. What does predict them is the gaps between recent bursts: if the lull so far is
about as long as the usual gap less a cold start, a copy released now could not be back in
time for the next burst, so it is held (or brought back); otherwise it can go.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from .checks import count, finite, probability

DEFAULT_MIN_GAPS = 3  # fewer gaps than this are not a pattern
DEFAULT_HOLD_PROBABILITY = 0.5


def burst_starts(series: Sequence[tuple[float, float]], threshold: float) -> list[float]:
    """Timestamps at which ``series`` (timestamp, value) rises to ``threshold`` or above from
    below it: the starts of bursts. A series that begins above the threshold has no known
    start for that first burst, so it is left out.

    Per-minute values 2, 20, 25, 3, 2, 22 at minutes 0..5 with threshold 10: [60.0, 300.0].
    """
    level = finite("threshold", threshold)
    starts: list[float] = []
    below: bool | None = None
    for i, (timestamp, value) in enumerate(sorted(series)):
        at = finite(f"series[{i}] timestamp", timestamp)
        above = finite(f"series[{i}] value", value) >= level
        if above and below:
            starts.append(at)
        below = not above
    return starts


def burst_probability(
    starts: Sequence[float],
    now: float,
    within_s: float,
    *,
    min_gaps: int = DEFAULT_MIN_GAPS,
) -> float | None:
    """Chance that the next burst starts within ``within_s``, from the gaps between ``starts``.

    The empirical hazard: of the past gaps longer than the lull so far, the share that ended
    within ``within_s`` more. Gaps of 500, 600, 700 and 800 s, 400 s since the last burst began,
    258 s ahead: all four are longer than 400 s, 500 and 600 end by 658 s, so 0.5. 300 s since
    the last: only 500 ends by 558 s, 0.25. Longer than every gap seen: 0.0 (the pattern has
    broken). None with fewer than ``min_gaps`` gaps (no pattern to go by). Starts after ``now``
    are ignored.
    """
    at = finite("now", now)
    ahead = finite("within_s", within_s, minimum=0)
    count("min_gaps", min_gaps, minimum=1)
    past = sorted(s for s in (finite("burst start", s) for s in starts) if s <= at)
    gaps = [later - earlier for earlier, later in itertools.pairwise(past)]
    if len(gaps) < min_gaps:
        return None
    elapsed = at - past[-1]
    longer = [g for g in gaps if g > elapsed]
    if not longer:
        return 0.0
    return sum(1 for g in longer if g <= elapsed + ahead) / len(longer)


def hold_through_gap(
    starts: Sequence[float],
    now: float,
    cold_start_s: float,
    *,
    min_probability: float = DEFAULT_HOLD_PROBABILITY,
    min_gaps: int = DEFAULT_MIN_GAPS,
) -> bool:
    """Whether burst capacity should be held now (True) or may be released promptly (False).

    True when the next burst is at least ``min_probability`` likely to start within a cold
    start: a copy released now could not be back in time. Bursts every 600 s, 258 s cold
    start: released from 0 to 342 s into the lull (a copy can still be back by 600 s), held
    from 342 s on, and, past the gap of every burst seen, released again. A copy released
    earlier should come back when this turns True: the same rule pre-warms for the burst.
    No pattern (fewer than ``min_gaps`` gaps): False, the alarms alone decide.
    """
    threshold = probability("min_probability", min_probability)
    ahead = finite("cold_start_s", cold_start_s, minimum=0)
    chance = burst_probability(starts, now, ahead, min_gaps=min_gaps)
    return chance is not None and chance >= threshold
