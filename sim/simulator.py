"""A discrete-event simulation of a whole endpoint: every inference component on one instance pool.

What is modelled (each choice is stated in docs/scaling-model.md):

* Requests arrive from each component's ``Workload`` and hold one concurrency slot of one of its
  copies until their last token; a copy has ``max_concurrency`` slots. LEAST_OUTSTANDING_REQUESTS
  routing keeps equal copies balanced, so a request that starts while ``k`` requests are in
  service on ``n`` serving copies joins a copy serving ``k // n`` and runs at concurrency
  ``k // n + 1``. Its prefill and decode rates are the copy's at that concurrency
  (``config.serving``), fixed for its whole life: the approximation that keeps the loop
  event-driven.
  A request that finds every slot busy waits in one FIFO queue per component.
* Time to first token = queue wait + prompt tokens / prefill rate at the load it met; a request is
  within the SLO when that is at most the fleet's ``slo.ttft_s``. With no copy at all an
  invocation fails (``NoCapacityInvocationFailures``); a request still queued after
  ``INVOCATION_TIMEOUT_S`` fails. Both miss the SLO.
* Copies and instances: ``sim.pool`` (shared by the endpoint's components).
* Metrics: every 10 s, per component, the time-averaged number of requests in the system per
  serving copy (``ConcurrentRequestsPerCopy``) and failures, readable ``publish_delay_s`` after
  their period; ``InvocationsPerCopy`` is a standard 1-minute metric, readable 60 s after.
  Policies read only what CloudWatch would have published.
* Every policy's capacity call comes ``reaction_s`` after its alarm (one delay for all).

Deterministic: workloads are fixed before the run and the loop has no randomness. The
per-request part of the loop is ``sim.request_loop``, compiled (the same arithmetic as
interpreted, bit for bit); ticks, events and policies run here, in Python.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence

from . import placement
from .cloudwatch import HIGH_RES_PUBLISH_DELAY_S
from .component import Component
from .lane import (
    DEFAULT_REACTION_S,
    INVOCATION_TIMEOUT_S,
    PATH_NAMES,
    TICK_S,
    Action,
    EndpointResult,
    Lane,
    RunResult,
    Timeline,
)
from .pool import Copy, Pool
from .protocol import Policy
from .traffic import Workload

__all__ = [
    "DEFAULT_REACTION_S",
    "INVOCATION_TIMEOUT_S",
    "PATH_NAMES",
    "TICK_S",
    "Action",
    "EndpointResult",
    "EndpointSimulation",
    "Lane",
    "RunResult",
    "Simulation",
    "Timeline",
    "simulate",
]


class EndpointSimulation:
    """One run of one endpoint: a (component, workload, policy) per lane. Call ``run()`` once."""

    def __init__(
        self,
        lanes: Sequence[tuple[Component, Workload, Policy]],
        *,
        reaction_s: float = DEFAULT_REACTION_S,
        publish_delay_s: float = HIGH_RES_PUBLISH_DELAY_S,
        idle_release_s: float | None = None,
    ):
        if not lanes:
            raise ValueError("an endpoint simulation needs at least one component")
        endpoint = lanes[0][0].endpoint
        if any(c.endpoint.name != endpoint.name for c, _, _ in lanes):
            raise ValueError("every component of an endpoint simulation must be on one endpoint")
        for name, value in (("reaction_s", reaction_s), ("publish_delay_s", publish_delay_s)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number of seconds >= 0; got {value!r}")
        self.now = 0.0
        self.reaction_s = reaction_s
        self.publish_delay_s = publish_delay_s
        release_s = (
            endpoint.scale_in_policy.cooldown_minutes * 60.0
            if idle_release_s is None
            else idle_release_s
        )
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self.pool = Pool(endpoint, self.schedule, release_s)
        self.pool.on_room = self._place_waiting
        self.lanes = [Lane(self, k, c, w, p) for k, (c, w, p) in enumerate(lanes)]
        self._start()

    def schedule(self, at_s: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` at simulated time ``at_s`` (not before the current time)."""
        self._seq += 1
        heapq.heappush(self._events, (max(at_s, self.now), self._seq, fn))

    def _start(self) -> None:
        for _ in range(self.pool.endpoint.initial_instances):
            self.pool.launch(ready_at=0.0)
        for lane in self.lanes:
            m = lane.model
            for _ in range(max(m.initial_copies, m.min_copies)):
                lane.desired += 1
                kind, inst = self.pool.choose(m.accelerators, m.memory_mb)
                if kind == "none":
                    lane.waiting.append(0.0)
                    continue
                if inst is None or inst.ready_at > 0:
                    inst = self.pool.launch(ready_at=0.0)
                self.pool.take(inst, lane.idx, m.accelerators, m.memory_mb)
                lane.copies.append(Copy(lane.idx, inst, 0.0, "initial", 0.0, serving=True))
                lane.serving += 1
            lane.slots = lane.serving * lane.maxc
        for inst in self.pool.instances:
            if inst.copies == 0:
                self.pool.release_later(inst)

    def place(self, lane: Lane, decided_at: float) -> None:
        """Put one new copy of ``lane`` on the pool, or make it wait for room."""
        m, pool = lane.model, self.pool
        cc, dc = lane.policy.container_cache, lane.policy.data_cache
        kind, inst = pool.choose(m.accelerators, m.memory_mb)
        if kind == "none":
            lane.waiting.append(decided_at)
            return
        how = placement.start(
            kind,
            inst,
            self.now,
            model_held=inst is not None and dc and lane.idx in inst.held,
            image_cached=cc and lane.image_cached,
            ready_s=lambda path, held: lane.c.ready_s(path, container_cache=cc, data_cache=held),
        )
        path, ready = how.path, how.ready_at
        if inst is None:
            inst = pool.launch(ready, path)
        pool.take(inst, lane.idx, m.accelerators, m.memory_mb)
        lane.paths_used[path] += 1
        copy = Copy(lane.idx, inst, ready, path, decided_at)
        lane.copies.append(copy)
        self.schedule(ready, lambda: lane.copy_ready(copy))

    def _place_waiting(self) -> None:
        for lane in self.lanes:
            while lane.waiting:
                m = lane.model
                if self.pool.choose(m.accelerators, m.memory_mb)[0] == "none":
                    break
                self.place(lane, lane.waiting.popleft())

    def run(self, progress: Callable[[float], None] | None = None) -> EndpointResult:
        """Simulate every workload to its end; ``progress`` gets simulated seconds per tick."""
        end = max(lane.w.duration_s for lane in self.lanes)
        events, lanes = self._events, self.lanes
        for lane in lanes:
            lane.policy.attach(lane)
        next_tick = float(TICK_S)
        while next_tick <= end + TICK_S:
            boundary = next_tick
            if events and events[0][0] < boundary:
                boundary = events[0][0]
            for lane in lanes:
                lane.advance(boundary)
            self.now = self.pool.now = boundary
            if boundary < next_tick:
                heapq.heappop(events)[2]()
                continue
            for lane in lanes:
                lane.close_tick(next_tick)
            while events and events[0][0] <= next_tick:
                heapq.heappop(events)[2]()
            for lane in lanes:
                lane.policy.on_tick(lane)
            if progress is not None:
                progress(TICK_S)
            next_tick += TICK_S
        gpu_hours = self.pool.gpu_hours(self.now)
        return EndpointResult(
            self.pool.endpoint.name, gpu_hours, [lane.result(gpu_hours) for lane in lanes]
        )


class Simulation(EndpointSimulation):
    """An endpoint with one simulated component (the local demo drives one per component)."""

    def __init__(self, component: Component, workload: Workload, policy: Policy, **delays: float):
        super().__init__([(component, workload, policy)], **delays)
        self.lane = self.lanes[0]
        self.c = component
        self.metrics = self.lane.metrics
        self.timeline = self.lane.timeline

    @property
    def desired(self) -> int:
        return self.lane.desired

    @property
    def serving(self) -> int:
        return self.lane.serving

    def set_desired(self, copies: int, reason: str) -> None:
        self.lane.set_desired(copies, reason)

    def run_one(self, progress: Callable[[float], None] | None = None) -> RunResult:
        return self.run(progress).components[0]


def simulate(
    component: Component, workload: Workload, policy: Policy, **delays: float
) -> RunResult:
    """Run ``workload`` through ``component`` alone on its endpoint under ``policy``."""
    return Simulation(component, workload, policy, **delays).run_one()
