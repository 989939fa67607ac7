"""A discrete-event simulation of a whole endpoint: every inference component on one instance pool.

What is modelled (each choice is stated in docs/scaling-model.md):

* Requests arrive from each component's ``Workload`` and hold one concurrency slot of one of its
  copies until their last token; a copy has ``max_concurrency`` slots. LEAST_OUTSTANDING_REQUESTS
  routing keeps equal copies balanced, so a request that starts while ``k`` requests are in
  service on ``n`` serving copies joins a copy serving ``k // n`` and runs at concurrency
  ``k // n + 1``. Its prefill and decode rates are the copy's at that concurrency
  (``sim.serving``), fixed for its whole life: the approximation that keeps the loop event-driven.
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

Deterministic: workloads are fixed before the run and the loop has no randomness.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from config.fleet import Endpoint, Model

from .cloudwatch import HIGH_RES_PUBLISH_DELAY_S, STANDARD_PUBLISH_DELAY_S, MetricSeries
from .component import Component
from .pool import Copy, Pool
from .protocol import Policy
from .traffic import Workload

TICK_S = 10  # SageMaker's high-resolution metric period: the simulator's clock for metrics
# SageMaker real-time endpoints give up on an invocation the container has not answered within
# 60 s (InvokeEndpoint's timeout). A request still queued after that fails; the simulator drops
# it at the next tick (at most 10 s late) and counts it as a timeout and an SLO miss.
INVOCATION_TIMEOUT_S = 60.0
DEFAULT_REACTION_S = 30.0  # alarm to capacity call, every policy (docs: sensitivity table)
PATH_NAMES = ("warm_instance", "cached", "uncached")


@dataclass(frozen=True)
class Action:
    at_s: float
    from_copies: int
    to_copies: int
    reason: str


@dataclass
class Timeline:
    """Per 10 s tick, for plots and the timings."""

    t_s: list[float] = field(default_factory=list)
    in_system: list[float] = field(default_factory=list)  # time-averaged over the tick
    serving_copies: list[int] = field(default_factory=list)
    desired_copies: list[int] = field(default_factory=list)
    instances: list[int] = field(default_factory=list)  # the endpoint's


@dataclass
class RunResult:
    """One component's run; ``gpu_hours`` is its endpoint's (shared by its components)."""

    policy: str
    component: Component
    workload: Workload
    ttft_s: np.ndarray  # per request; inf for a failed or timed-out invocation
    failures: int  # NoCapacityInvocationFailures
    timeouts: int  # waited past INVOCATION_TIMEOUT_S
    actions: list[Action]
    timeline: Timeline
    gpu_hours: float
    paths_used: dict[str, int]
    new_copies: list[tuple[float, float, str]]  # (decided at, serving at, path)


@dataclass
class EndpointResult:
    endpoint: str
    gpu_hours: float
    components: list[RunResult]


class Lane:
    """One component inside an endpoint simulation: its requests, copies and metrics; the
    ``sim.protocol.ComponentView`` its policy acts on."""

    def __init__(self, sim: EndpointSimulation, idx: int, c: Component, w: Workload, p: Policy):
        self.sim, self.idx, self.c, self.w, self.policy = sim, idx, c, w, p
        self.desired = self.serving = self.slots = 0
        self.maxc = c.max_concurrency
        self.image_cached = True  # the endpoint was deployed before the run: its image is cached
        self.copies: list[Copy] = []
        self.waiting: deque[float] = deque()  # copies no instance can take yet (decided at)
        self.actions: list[Action] = []
        self.paths_used = dict.fromkeys(PATH_NAMES, 0)
        self.new_copies: list[tuple[float, float, str]] = []
        self.timeline = Timeline()
        delay = sim.publish_delay_s
        self.metrics = {
            "ConcurrentRequestsPerCopy": MetricSeries("ConcurrentRequestsPerCopy", TICK_S, delay),
            "NoCapacityInvocationFailures": MetricSeries(
                "NoCapacityInvocationFailures", TICK_S, delay
            ),
            "InvocationsPerCopy": MetricSeries("InvocationsPerCopy", 60, STANDARD_PUBLISH_DELAY_S),
        }
        self.arrivals: list[float] = w.arrival_s.tolist()
        self.prompts: list[float] = w.prompt_tokens.tolist()
        self.outputs: list[float] = w.output_tokens.tolist()
        self.pre, self.dec = c.rates()
        self.i = 0
        self.busy: list[float] = []
        self.queue: deque[int] = deque()
        self.ttft: list[float] = []
        self.failures = self.timeouts = self.in_system = 0
        self.area = self.last = 0.0
        self.bin_invocations = self.bin_failures = 0
        self.minute_invocations_per_copy = 0.0

    # --- ComponentView ----------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.sim.now

    @property
    def reaction_s(self) -> float:
        return self.sim.reaction_s

    @property
    def model(self) -> Model:
        return self.c.model

    @property
    def endpoint(self) -> Endpoint:
        return self.c.endpoint

    def free_copy_slots(self) -> int:
        return self.sim.pool.room(self.model.accelerators, self.model.memory_mb)

    def instance_count(self) -> int:
        return len(self.sim.pool.live())

    def mean_service_s(self) -> float:
        """At full batch: the rates a copy has when it is as busy as target tracking aims for."""
        return float(np.mean(self.service_at(self.maxc))) if len(self.w) else 1.0

    def service_at(self, concurrency: int) -> np.ndarray:
        k = max(1, min(concurrency, self.maxc))
        return np.asarray(self.w.prompt_tokens / self.pre[k] + self.w.output_tokens / self.dec[k])

    def schedule(self, at_s: float, fn: Callable[[], None]) -> None:
        self.sim.schedule(at_s, fn)

    def set_desired(self, copies: int, reason: str) -> None:
        m = self.model
        copies = max(m.min_copies, min(m.max_copies, copies))
        if copies == self.desired:
            return
        self.actions.append(Action(self.now, self.desired, copies, reason))
        before, self.desired = self.desired, copies
        for _ in range(copies - before):
            self.sim.place(self, self.now)
        for _ in range(before - copies):
            self.remove_copy()

    # --- copies -------------------------------------------------------------------------------
    def copy_ready(self, copy: Copy) -> None:
        if copy.removed or copy.serving:
            return
        copy.serving = True
        self.serving += 1
        self.slots += self.maxc
        if copy.path in PATH_NAMES:
            self.new_copies.append((copy.decided_at, self.now, copy.path))
        self.start_queued(self.now)

    def remove_copy(self) -> None:
        if self.waiting:
            self.waiting.pop()
            return
        active = [x for x in self.copies if not x.removed]
        pending = [x for x in active if not x.serving]
        if pending:
            victim = max(pending, key=lambda x: x.ready_at)
        else:
            victim = min(active, key=lambda x: (x.instance.copies, -x.instance.id))
            self.serving -= 1
            self.slots -= self.maxc
        victim.removed = True
        self.copies.remove(victim)
        self.sim.pool.give_back(victim.instance, self.model.accelerators, self.model.memory_mb)

    # --- requests -----------------------------------------------------------------------------
    def start_queued(self, t: float) -> None:
        while self.queue and len(self.busy) < self.slots:
            self._start(t, self.queue.popleft())

    def _start(self, t: float, j: int) -> None:
        k = len(self.busy) // self.serving + 1
        if k > self.maxc:
            k = self.maxc
        first_token = self.prompts[j] / self.pre[k]
        self.ttft.append(t - self.arrivals[j] + first_token)
        heapq.heappush(self.busy, t + first_token + self.outputs[j] / self.dec[k])

    def advance(self, boundary: float) -> None:
        """Arrivals and completions up to ``boundary`` (the next event or tick)."""
        arrivals, busy, queue = self.arrivals, self.busy, self.queue
        heappop, start = heapq.heappop, self._start
        n, i, slots = len(arrivals), self.i, self.slots
        in_system, area, last = self.in_system, self.area, self.last
        while i < n and arrivals[i] < boundary:
            a = arrivals[i]
            while busy and busy[0] <= a:
                done = heappop(busy)
                area += in_system * (done - last)
                last = done
                in_system -= 1
                if queue and len(busy) < slots:
                    start(done, queue.popleft())
            area += in_system * (a - last)
            last = a
            if slots == 0:
                self.failures += 1
                self.bin_failures += 1
                self.ttft.append(math.inf)
            else:
                in_system += 1
                self.bin_invocations += 1
                if not queue and len(busy) < slots:
                    start(a, i)
                else:
                    queue.append(i)
            i += 1
        while busy and busy[0] <= boundary:
            done = heappop(busy)
            area += in_system * (done - last)
            last = done
            in_system -= 1
            if queue and len(busy) < slots:
                start(done, queue.popleft())
        self.area = area + in_system * (boundary - last)
        self.last, self.i, self.in_system = boundary, i, in_system

    def close_tick(self, t: float) -> None:
        """Drop requests past the invocation timeout, record the tick's datapoints."""
        queue, arrivals = self.queue, self.arrivals
        while queue and t - arrivals[queue[0]] > INVOCATION_TIMEOUT_S:
            queue.popleft()
            self.in_system -= 1
            self.timeouts += 1
            self.ttft.append(math.inf)
        in_flight = self.area / TICK_S
        self.metrics["ConcurrentRequestsPerCopy"].record(
            in_flight / self.serving if self.serving else None
        )
        self.metrics["NoCapacityInvocationFailures"].record(float(self.bin_failures))
        if self.serving:
            self.minute_invocations_per_copy += self.bin_invocations / self.serving
        if round(t) % 60 == 0:
            self.metrics["InvocationsPerCopy"].record(self.minute_invocations_per_copy)
            self.minute_invocations_per_copy = 0.0
        tl = self.timeline
        tl.t_s.append(t)
        tl.in_system.append(in_flight)
        tl.serving_copies.append(self.serving)
        tl.desired_copies.append(self.desired)
        tl.instances.append(len(self.sim.pool.live()))
        self.area = 0.0
        self.bin_invocations = self.bin_failures = 0

    def result(self, gpu_hours: float) -> RunResult:
        self.ttft.extend(self.sim.now - self.arrivals[j] for j in self.queue)  # still waiting
        return RunResult(
            self.policy.name,
            self.c,
            self.w,
            np.asarray(self.ttft),
            self.failures,
            self.timeouts,
            self.actions,
            self.timeline,
            gpu_hours,
            dict(self.paths_used),
            self.new_copies,
        )


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
        for _ in range(self.pool.endpoint.min_instances):
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
        if kind == "warm_instance" and inst is not None:
            path = "warm_instance"
            held = dc and lane.idx in inst.held
            ready = self.now + lane.c.ready_s(path, container_cache=cc, data_cache=held)
        elif kind == "joins_launch" and inst is not None:
            path = inst.path
            own = lane.c.ready_s(path, container_cache=cc, data_cache=dc)
            ready = max(inst.ready_at, inst.launched_at + own)
        else:
            path = "cached" if cc and lane.image_cached else "uncached"
            ready = self.now + lane.c.ready_s(path, container_cache=cc, data_cache=dc)
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
