"""Recurring bursts: hold capacity through a lull that recent history says ends soon.

Bursts that recur at similar intervals do not line up with the clock, so the daily forecast
misses them. Two rules hold capacity through the lulls between them:

* ``recent_peak``: a copy released now saves nothing until its instance is released, which
  SageMaker does only after the instance has been idle for the endpoint's scale-in cooldown
  (ManagedInstanceScaling ``CooldownInMinutes``, 20 by default). So the copies that the last
  cooldown's busiest minute needed are kept: a burst that returns within it finds them serving,
  and an instance that would have stayed paid for anyway has its copy. Only a lull longer than
  the cooldown releases them, one cooldown later than the alarms alone would.
* ``hold_through_gap``: past that, the gaps between recent bursts say whether the next is
  likely within a cold start; if so, a copy released now could not be back in time, so it is
  held (or brought back); otherwise it can go.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from .checks import count, finite, finite_series, probability

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
    for at, value in finite_series("series", sorted(series)):
        above = value >= level
        if above and below:
            starts.append(at)
        below = not above
    return starts


def recent_peak(
    series: Sequence[tuple[float, float]],
    now: float,
    window_s: float,
    copies_for: Callable[[float], int],
) -> int:
    """The most copies any datapoint of ``series`` (timestamp, value) in the last ``window_s``
    before ``now`` needed, by ``copies_for``; 0 when none falls in the window.

    ``Invocations`` per minute 120, 1200, 1500, 150 at minutes 0..3, a 20-minute window, 4
    requests/s per copy (copies_for = ceil(per minute / 240)): at minute 10 the 1500 of minute 2
    needs 7 copies, so 7 are kept; at minute 22.5 minute 2 has left the window and 150 needs 1.
    """
    at = finite("now", now)
    span = finite("window_s", window_s, minimum=0)
    peak = 0
    for timestamp, value in finite_series("series", series, minimum=0):
        if at - span <= timestamp <= at:
            peak = max(peak, count("copies_for(value)", copies_for(value)))
    return peak


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
