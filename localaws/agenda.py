"""Things due at simulated times, run in order (the local AWS's notion of "later").

An alarm's action that starts 2 s after the transition, a message delivered when its
``DelaySeconds`` are up, a CloudTrail event 30 s after the call: each is an action put on the
agenda for a simulated moment, under a key (the endpoint it belongs to) so that one endpoint's
items can be run alone. Items due at the same moment run in the order they were added.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

Action = Callable[[], object]


class Agenda:
    """Actions due at simulated times: ``(due, seq, key, label, action)``."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, str, Action]] = []
        self._seq = itertools.count()

    def add(self, due_s: float, key: str, label: str, action: Action) -> None:
        heapq.heappush(self._heap, (due_s, next(self._seq), key, label, action))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_s: float, key: str | None = None) -> tuple[float, str, Action] | None:
        """The earliest item due by ``now_s`` (of ``key`` only, if given), removed."""
        for item in sorted(self._heap):
            due, _, item_key, label, action = item
            if due > now_s:
                return None
            if key is None or item_key == key:
                self._heap.remove(item)
                heapq.heapify(self._heap)
                return due, label, action
        return None

    def __len__(self) -> int:
        return len(self._heap)
