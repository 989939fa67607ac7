"""One inference component inside an endpoint simulation (``sim.simulator``): its requests, its
copies and its CloudWatch metrics; the ``sim.protocol.ComponentView`` its policy acts on."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from config.fleet import Endpoint, Model

from . import placement, request_loop
from .cloudwatch import STANDARD_PUBLISH_DELAY_S, MetricSeries
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
    ttft_s: np.ndarray  # per request, in arrival order; inf for a failed or timed-out one
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


class Host(Protocol):
    """What a lane needs of the endpoint simulation it runs in (``sim.simulator``), so that the
    two modules do not import each other."""

    now: float
    reaction_s: float
    publish_delay_s: float
    pool: Pool
    lanes: Sequence[Lane]

    def schedule(self, at_s: float, fn: Callable[[], None]) -> None: ...

    def place(self, lane: Lane, decided_at: float) -> None: ...


class Lane:
    """One component inside an endpoint simulation: its requests, copies and metrics; the
    ``sim.protocol.ComponentView`` its policy acts on."""

    def __init__(self, sim: Host, idx: int, c: Component, w: Workload, p: Policy):
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
            "Invocations": MetricSeries("Invocations", 60, STANDARD_PUBLISH_DELAY_S),
        }
        # The request loop's arrays and carried scalars (``sim.request_loop``).
        self.arrivals = np.ascontiguousarray(w.arrival_s, dtype=np.float64)
        self.prompts = np.ascontiguousarray(w.prompt_tokens, dtype=np.float64)
        self.outputs = np.ascontiguousarray(w.output_tokens, dtype=np.float64)
        pre, dec = c.rates()
        self.pre, self.dec = np.asarray(pre, dtype=np.float64), np.asarray(dec, dtype=np.float64)
        self.state = np.zeros(request_loop.STATE_SIZE)
        self.busy = np.zeros(self.maxc * c.model.max_copies + 1)  # a min-heap of end times
        self.queue = np.zeros(len(self.arrivals), dtype=np.int64)
        self.ttft = np.full(len(self.arrivals), math.inf)  # by request; inf: failed
        self.failures = self.timeouts = 0
        self.bin_invocations = self.bin_failures = 0
        self.minute_invocations_per_copy = 0.0
        self.minute_invocations = 0

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

    def siblings(self) -> dict[str, tuple[int, int]]:
        return {
            other.c.name: (other.desired, other.endpoint.copies_per_instance(other.model))
            for other in self.sim.lanes
            if other is not self
        }

    def instance_count(self) -> int:
        return self.sim.pool.live_count()

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
        victim = min(
            self.copies, key=lambda x: placement.removal_rank(x.instance, x.serving, x.ready_at)
        )
        if victim.serving:
            self.serving -= 1
            self.slots -= self.maxc
        victim.removed = True
        self.copies.remove(victim)
        self.sim.pool.give_back(victim.instance, self.model.accelerators, self.model.memory_mb)

    # --- requests -----------------------------------------------------------------------------
    def _loop_args(self) -> tuple[Any, ...]:
        if self.slots >= self.busy.size:  # the heap holds at most ``slots`` end times
            self.busy = np.concatenate([self.busy, np.zeros(self.slots + 1 - self.busy.size)])
        return (
            self.state,
            self.arrivals,
            self.prompts,
            self.outputs,
            self.ttft,
            self.busy,
            self.queue,
            self.pre,
            self.dec,
            self.maxc,
            self.serving,
            self.slots,
        )

    def start_queued(self, t: float) -> None:
        request_loop.start_queued(t, *self._loop_args())

    def advance(self, boundary: float) -> None:
        """Arrivals and completions up to ``boundary`` (the next event or tick)."""
        invocations, failures = request_loop.advance(boundary, *self._loop_args())
        self.failures += failures
        self.bin_failures += failures
        self.bin_invocations += invocations

    def close_tick(self, t: float) -> None:
        """Drop requests past the invocation timeout, record the tick's datapoints."""
        state, queue, arrivals = self.state, self.queue, self.arrivals
        head, tail = int(state[request_loop.HEAD]), int(state[request_loop.TAIL])
        while head < tail and t - arrivals[queue[head]] > INVOCATION_TIMEOUT_S:
            head += 1
            state[request_loop.IN_SYSTEM] -= 1
            self.timeouts += 1  # its time to first token stays inf
        state[request_loop.HEAD] = head
        in_flight = float(state[request_loop.AREA]) / TICK_S
        self.metrics["ConcurrentRequestsPerCopy"].record(
            in_flight / self.serving if self.serving else None
        )
        self.metrics["NoCapacityInvocationFailures"].record(float(self.bin_failures))
        if self.serving:
            self.minute_invocations_per_copy += self.bin_invocations / self.serving
        self.minute_invocations += self.bin_invocations
        if round(t) % 60 == 0:
            self.metrics["InvocationsPerCopy"].record(self.minute_invocations_per_copy)
            self.metrics["Invocations"].record(float(self.minute_invocations))
            self.minute_invocations_per_copy = 0.0
            self.minute_invocations = 0
        tl = self.timeline
        tl.t_s.append(t)
        tl.in_system.append(in_flight)
        tl.serving_copies.append(self.serving)
        tl.desired_copies.append(self.desired)
        tl.instances.append(self.sim.pool.live_count())
        state[request_loop.AREA] = 0.0
        self.bin_invocations = self.bin_failures = 0

    def result(self, gpu_hours: float) -> RunResult:
        waiting = self.queue[
            int(self.state[request_loop.HEAD]) : int(self.state[request_loop.TAIL])
        ]
        # still waiting at the end: at least this long
        self.ttft[waiting] = self.sim.now - self.arrivals[waiting]
        return RunResult(
            self.policy.name,
            self.c,
            self.w,
            self.ttft,
            self.failures,
            self.timeouts,
            self.actions,
            self.timeline,
            gpu_hours,
            dict(self.paths_used),
            self.new_copies,
        )
