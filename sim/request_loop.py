"""The per-request loop of one component (``sim.lane.Lane``), compiled with numba.

A component's requests go through its copies' concurrency slots: arrivals in order, each starting
at once if a slot is free and nobody waits, else waiting in one FIFO queue; a finished request
frees its slot for the queue's head. A request starting while ``k`` requests are in service on
``serving`` copies runs at concurrency ``k // serving + 1`` (capped at ``maxc``): its time to first
token and its end are fixed at its start (``sim.simulator`` states the model).

The loop is written once, as plain Python over numpy arrays, and compiled by numba's ``njit``
(no fast-math: the same IEEE operations in the same order, so the results are the interpreted
loop's bit for bit; tests/sim/test_same_results.py holds fingerprints of the earlier engine).
With ``NUMBA_DISABLE_JIT=1`` the same functions run interpreted (slowly): the reference.

State lives in arrays the caller owns:

* ``busy``: a binary min-heap of the end times of requests in service, ``nbusy`` of them;
* ``queue``: request indices waiting, ``queue[head:tail]`` in arrival order (each request is
  queued at most once, so an array as long as the workload never wraps);
* ``ttft``: per request, inf until it starts (and forever for a failed or timed-out one).

``state`` packs the scalars that carry from one call to the next (float64):
``[next request, nbusy, head, tail, in_system, area, last]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NEXT, NBUSY, HEAD, TAIL, IN_SYSTEM, AREA, LAST = range(7)
STATE_SIZE = 7


@njit(cache=True)
def _push(heap: np.ndarray, n: int, value: float) -> int:
    """Add ``value`` to the min-heap ``heap[:n]``; returns its new size."""
    pos = n
    while pos > 0:
        parent = (pos - 1) >> 1
        if heap[parent] <= value:
            break
        heap[pos] = heap[parent]
        pos = parent
    heap[pos] = value
    return n + 1


@njit(cache=True)
def _pop(heap: np.ndarray, n: int) -> float:
    """Remove and return the smallest of ``heap[:n]`` (the caller's size becomes ``n - 1``)."""
    top = heap[0]
    n -= 1
    if n == 0:
        return top
    value = heap[n]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] < heap[child]:
            child += 1
        if value <= heap[child]:
            break
        heap[pos] = heap[child]
        pos = child
    heap[pos] = value
    return top


@njit(cache=True)
def start_queued(
    t: float,
    state: np.ndarray,
    arrivals: np.ndarray,
    prompts: np.ndarray,
    outputs: np.ndarray,
    ttft: np.ndarray,
    busy: np.ndarray,
    queue: np.ndarray,
    pre: np.ndarray,
    dec: np.ndarray,
    maxc: int,
    serving: int,
    slots: int,
) -> None:
    """Start waiting requests at ``t`` while slots are free (a copy began serving)."""
    nbusy, head, tail = int(state[NBUSY]), int(state[HEAD]), int(state[TAIL])
    while head < tail and nbusy < slots:
        j = queue[head]
        head += 1
        k = nbusy // serving + 1
        if k > maxc:
            k = maxc
        first = prompts[j] / pre[k]
        ttft[j] = t - arrivals[j] + first
        nbusy = _push(busy, nbusy, t + first + outputs[j] / dec[k])
    state[NBUSY], state[HEAD] = nbusy, head


@njit(cache=True)
def advance(
    boundary: float,
    state: np.ndarray,
    arrivals: np.ndarray,
    prompts: np.ndarray,
    outputs: np.ndarray,
    ttft: np.ndarray,
    busy: np.ndarray,
    queue: np.ndarray,
    pre: np.ndarray,
    dec: np.ndarray,
    maxc: int,
    serving: int,
    slots: int,
) -> tuple[int, int]:
    """Arrivals and completions up to ``boundary`` (the next event or tick).

    Returns the invocations accepted and the requests that failed for want of any copy.
    ``area`` accumulates the integral of requests in the system over time.
    """
    n = arrivals.size
    i, nbusy = int(state[NEXT]), int(state[NBUSY])
    head, tail = int(state[HEAD]), int(state[TAIL])
    in_system = int(state[IN_SYSTEM])
    area, last = state[AREA], state[LAST]
    invocations = failures = 0
    while i < n and arrivals[i] < boundary:
        a = arrivals[i]
        while nbusy > 0 and busy[0] <= a:
            done = _pop(busy, nbusy)
            nbusy -= 1
            area += in_system * (done - last)
            last = done
            in_system -= 1
            if head < tail and nbusy < slots:
                j = queue[head]
                head += 1
                k = nbusy // serving + 1
                if k > maxc:
                    k = maxc
                first = prompts[j] / pre[k]
                ttft[j] = done - arrivals[j] + first
                nbusy = _push(busy, nbusy, done + first + outputs[j] / dec[k])
        area += in_system * (a - last)
        last = a
        if slots == 0:
            failures += 1  # its time to first token stays inf
        else:
            in_system += 1
            invocations += 1
            if head == tail and nbusy < slots:
                k = nbusy // serving + 1
                if k > maxc:
                    k = maxc
                first = prompts[i] / pre[k]
                ttft[i] = first
                nbusy = _push(busy, nbusy, a + first + outputs[i] / dec[k])
            else:
                queue[tail] = i
                tail += 1
        i += 1
    while nbusy > 0 and busy[0] <= boundary:
        done = _pop(busy, nbusy)
        nbusy -= 1
        area += in_system * (done - last)
        last = done
        in_system -= 1
        if head < tail and nbusy < slots:
            j = queue[head]
            head += 1
            k = nbusy // serving + 1
            if k > maxc:
                k = maxc
            first = prompts[j] / pre[k]
            ttft[j] = done - arrivals[j] + first
            nbusy = _push(busy, nbusy, done + first + outputs[j] / dec[k])
    area += in_system * (boundary - last)
    state[NEXT], state[NBUSY], state[HEAD], state[TAIL] = i, nbusy, head, tail
    state[IN_SYSTEM], state[AREA], state[LAST] = in_system, area, boundary
    return invocations, failures


def warm_up() -> None:
    """Compile (or load from numba's cache) before worker processes fork, so each does not."""
    one, rates = np.ones(1), np.ones(2)
    state = np.zeros(STATE_SIZE)
    args = (one, one, one, np.full(1, np.inf), np.zeros(2), np.zeros(1, np.int64), rates, rates)
    advance(2.0, state, *args, 1, 1, 1)
    start_queued(2.0, state, *args, 1, 1, 1)
