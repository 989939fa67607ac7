"""A discrete-event simulation of one inference component on its endpoint, under one policy.

What is modelled (each choice is stated in docs/scaling-model.md):

* Requests arrive from a ``Workload``; each holds one concurrency slot of one copy for its service
  time (prefill + decode). Copies have ``serving.max_concurrency`` slots each. SageMaker routes
  with LEAST_OUTSTANDING_REQUESTS, which with equal copies behaves like one FIFO queue in front
  of all slots; a request that finds every slot busy waits, and its wait is what the SLO judges.
  With no copy at all, an invocation fails (``NoCapacityInvocationFailures``) and misses the SLO.
* Copies and instances (ManagedInstanceScaling): a new copy goes to a free accelerator slot on a
  running instance (warm path), or onto an instance already being launched with room, or a new
  instance is launched (cached or uncached path) up to ``max_instances``. Ready times come from
  ``config.coldstart``. Scale-in removes copies not yet serving first, then serving copies from the
  emptiest instance; an instance left without copies is released after the endpoint's
  ``scale_in_policy.cooldown_minutes`` (IDLE_RELEASE), never below ``min_instances``.
* Metrics: every 10 s the time-averaged number of requests in the system per serving copy
  (``ConcurrentRequestsPerCopy``), invocations per copy and failures are recorded into
  ``sim.cloudwatch.MetricSeries`` with their publishing delays; ``InvocationsPerCopy`` is a
  standard 1-minute metric. Policies read only what CloudWatch would have published.

Everything is deterministic: the workload is fixed before the run and the loop has no
randomness, so the same seed gives the same result.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from config.coldstart import Phases, cold_start
from config.fleet import Endpoint, Fleet, Model

from .cloudwatch import HIGH_RES_PUBLISH_DELAY_S, STANDARD_PUBLISH_DELAY_S, MetricSeries
from .traffic import Workload

if TYPE_CHECKING:
    from .policies import Policy

TICK_S = 10  # SageMaker's high-resolution metric period: the simulator's clock for metrics
FLAP_WINDOW_S = 600.0  # a change of direction within 10 minutes of the last action is a flap
# SageMaker real-time endpoints give up on an invocation the container has not answered within
# 60 s (InvokeEndpoint's timeout). A request still queued after that fails; the simulator drops
# it at the next tick (at most 10 s late) and counts it as a timeout and an SLO miss.
INVOCATION_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Component:
    """The inference component being simulated and the physics around it."""

    endpoint: Endpoint
    model: Model
    slo_ttft_s: float
    paths: dict[str, Phases]

    @classmethod
    def from_fleet(
        cls, fleet: Fleet, endpoint: str | None = None, model: str | None = None
    ) -> Component:
        """The named (or first) model of the named (or first) endpoint of ``fleet``."""
        ep = fleet.endpoints[0] if endpoint is None else fleet.endpoint(endpoint)
        if model is None:
            m = ep.models[0]
        else:
            found = [x for x in ep.models if x.name == model]
            if not found:
                raise KeyError(
                    f"endpoint {ep.name} has no model {model!r}; it has "
                    f"{[x.name for x in ep.models]}"
                )
            m = found[0]
        paths = cold_start(ep.instance_type, image_gb=m.image_gb, model_gb=m.model_gb)
        return cls(ep, m, fleet.slo_ttft_s, paths)

    @property
    def copies_per_instance(self) -> int:
        return self.endpoint.copies_per_instance(self.model)

    @property
    def max_concurrency(self) -> int:
        return self.model.serving.max_concurrency

    def ready_s(self, path: str, *, container_cache: bool, data_cache: bool) -> float:
        """Seconds until a copy on ``path`` serves, for a policy's cache settings.

        Without the container cache every new instance pulls the image; without the data cache
        a copy on a running instance still downloads the model (the image is on that instance).
        """
        p = self.paths
        if path == "warm_instance":
            if data_cache:
                return p["warm_instance"].total_s
            return p["warm_instance"].total_s + p["cached"].model_download_s
        if path == "cached" and container_cache:
            return p["cached"].total_s
        return p["uncached"].total_s


@dataclass
class Instance:
    id: int
    launched_at: float
    ready_at: float
    copies: int = 0  # placed here, serving or not
    empty_since: float | None = None
    released_at: float | None = None


@dataclass
class Copy:
    id: int
    instance: Instance
    ready_at: float
    path: str
    serving: bool = False
    removed: bool = False


@dataclass(frozen=True)
class Action:
    at_s: float
    from_copies: int
    to_copies: int
    reason: str


@dataclass
class Timeline:
    """Per 10 s tick, for plots and the time-to-capacity figures."""

    t_s: list[float] = field(default_factory=list)
    in_system: list[float] = field(default_factory=list)  # time-averaged over the tick
    serving_copies: list[int] = field(default_factory=list)
    desired_copies: list[int] = field(default_factory=list)
    instances: list[int] = field(default_factory=list)


@dataclass
class RunResult:
    policy: str
    component: Component
    workload: Workload
    waits_s: np.ndarray  # per request; inf for a failed or timed-out invocation
    failures: int  # NoCapacityInvocationFailures
    timeouts: int  # waited past INVOCATION_TIMEOUT_S
    actions: list[Action]
    timeline: Timeline
    gpu_hours: float
    paths_used: dict[str, int]
    notes: list[str] = field(default_factory=list)


class Simulation:
    """One run: a component, a workload and a policy. Call ``run()`` once."""

    def __init__(self, component: Component, workload: Workload, policy: Policy):
        self.c = component
        self.w = workload
        self.policy = policy
        self.now = 0.0
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self.instances: list[Instance] = []
        self.copies: list[Copy] = []
        self.unplaced = 0  # copies asked for that no instance can take (max_instances reached)
        self.desired = 0
        self.serving = 0
        self.slots = 0
        self.image_cached = True  # the endpoint was deployed before the run: its image is cached
        self.actions: list[Action] = []
        self.paths_used = {"warm_instance": 0, "cached": 0, "uncached": 0}
        self.notes: list[str] = []
        self.timeline = Timeline()
        self.metrics = {
            "ConcurrentRequestsPerCopy": MetricSeries(
                "ConcurrentRequestsPerCopy", TICK_S, HIGH_RES_PUBLISH_DELAY_S
            ),
            "NoCapacityInvocationFailures": MetricSeries(
                "NoCapacityInvocationFailures", TICK_S, HIGH_RES_PUBLISH_DELAY_S
            ),
            "InvocationsPerCopy": MetricSeries("InvocationsPerCopy", 60, STANDARD_PUBLISH_DELAY_S),
        }
        self._next_instance = 0
        self._next_copy = 0
        self._start()

    # --- scheduling -----------------------------------------------------------------------
    def schedule(self, at_s: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` at simulated time ``at_s`` (not before the current time)."""
        self._seq += 1
        heapq.heappush(self._events, (max(at_s, self.now), self._seq, fn))

    # --- capacity -------------------------------------------------------------------------
    def _start(self) -> None:
        m, ep = self.c.model, self.c.endpoint
        initial = max(m.initial_copies, m.min_copies)
        per = self.c.copies_per_instance
        n_instances = max(ep.min_instances, math.ceil(initial / per) if initial else 0)
        for _ in range(min(n_instances, ep.max_instances)):
            self._launch(ready_at=0.0)
        for _ in range(initial):
            inst = next((i for i in self.instances if i.copies < per), None)
            if inst is None:
                self.unplaced += 1
                continue
            inst.copies += 1
            self.copies.append(Copy(self._new_copy_id(), inst, 0.0, "initial", serving=True))
        self.desired = initial
        self.serving = sum(1 for x in self.copies if x.serving)
        self.slots = self.serving * self.c.max_concurrency
        for inst in self.instances:
            if inst.copies == 0:
                self._maybe_release_later(inst)

    def _new_copy_id(self) -> int:
        self._next_copy += 1
        return self._next_copy

    def _launch(self, ready_at: float) -> Instance:
        self._next_instance += 1
        inst = Instance(self._next_instance, self.now, ready_at)
        self.instances.append(inst)
        return inst

    def live_instances(self) -> list[Instance]:
        return [i for i in self.instances if i.released_at is None]

    def free_copy_slots(self) -> int:
        """Copies that fit on running (ready) instances right now."""
        per = self.c.copies_per_instance
        return sum(per - i.copies for i in self.live_instances() if i.ready_at <= self.now)

    def set_desired(self, copies: int, reason: str) -> None:
        """Apply a new DesiredCopyCount (clamped to the component's min..max copies)."""
        m = self.c.model
        copies = max(m.min_copies, min(m.max_copies, copies))
        if copies == self.desired:
            return
        self.actions.append(Action(self.now, self.desired, copies, reason))
        if copies > self.desired:
            for _ in range(copies - self.desired):
                self._add_copy()
        else:
            for _ in range(self.desired - copies):
                self._remove_copy()
        self.desired = copies

    def _add_copy(self) -> None:
        per = self.c.copies_per_instance
        cache = (self.policy.container_cache, self.policy.data_cache)
        live = self.live_instances()
        running = [i for i in live if i.ready_at <= self.now and i.copies < per]
        launching = [i for i in live if i.ready_at > self.now and i.copies < per]
        if running:
            inst = max(running, key=lambda i: i.copies)  # pack: keep other instances free
            path = "warm_instance"
            ready_at = self.now + self.c.ready_s(
                path, container_cache=cache[0], data_cache=cache[1]
            )
        elif launching:
            inst = launching[0]
            path, ready_at = "joins_launch", inst.ready_at
        elif len(live) < self.c.endpoint.max_instances:
            path = "cached" if self.image_cached and cache[0] else "uncached"
            ready_at = self.now + self.c.ready_s(
                path, container_cache=cache[0], data_cache=cache[1]
            )
            inst = self._launch(ready_at)
        else:
            self.unplaced += 1
            return
        inst.copies += 1
        inst.empty_since = None
        if path in self.paths_used:
            self.paths_used[path] += 1
        copy = Copy(self._new_copy_id(), inst, ready_at, path)
        self.copies.append(copy)
        self.schedule(ready_at, lambda: self._copy_ready(copy))

    def _copy_ready(self, copy: Copy) -> None:
        if copy.removed or copy.serving:
            return
        copy.serving = True
        self.serving += 1
        self.slots += self.c.max_concurrency
        self._start_queued(self.now)

    def _remove_copy(self) -> None:
        if self.unplaced:
            self.unplaced -= 1
            return
        active = [x for x in self.copies if not x.removed]
        pending = [x for x in active if not x.serving]
        if pending:
            victim = max(pending, key=lambda x: x.ready_at)
        else:
            victim = min(active, key=lambda x: (x.instance.copies, -x.id))
            self.serving -= 1
            self.slots -= self.c.max_concurrency
        victim.removed = True
        self.copies.remove(victim)
        inst = victim.instance
        inst.copies -= 1
        if inst.copies == 0:
            self._maybe_release_later(inst)

    def _maybe_release_later(self, inst: Instance) -> None:
        inst.empty_since = self.now
        since = self.now
        delay = self.c.endpoint.scale_in_policy.cooldown_minutes * 60.0

        def release() -> None:
            live = self.live_instances()
            if (
                inst.released_at is None
                and inst.copies == 0
                and inst.empty_since == since
                and len(live) > self.c.endpoint.min_instances
            ):
                inst.released_at = self.now

        self.schedule(max(self.now + delay, inst.ready_at), release)

    # --- the run --------------------------------------------------------------------------
    def _start_queued(self, t: float) -> None:
        busy, queue = self._busy, self._queue
        while queue and len(busy) < self.slots:
            a, s = queue.popleft()
            self._waits.append(t - a)
            heapq.heappush(busy, t + s)

    def run(self, progress: Callable[[float], None] | None = None) -> RunResult:
        """Simulate the whole workload; ``progress`` gets the simulated seconds done per tick."""
        arrivals: list[float] = self.w.arrival_s.tolist()
        services: list[float] = self.w.service_time_s(
            self.c.model.serving.prefill_tokens_per_s, self.c.model.serving.decode_tokens_per_s
        ).tolist()
        n = len(arrivals)
        self._busy: list[float] = []
        self._queue: deque[tuple[float, float]] = deque()
        self._waits: list[float] = []
        busy, queue, waits = self._busy, self._queue, self._waits
        heappush, heappop = heapq.heappush, heapq.heappop
        events = self._events
        failures = 0
        timeouts = 0
        in_system = 0  # requests in service or queued
        area = 0.0  # integral of in_system over the current tick
        last = 0.0
        bin_invocations = 0
        bin_failures = 0
        minute_invocations_per_copy = 0.0
        i = 0
        next_tick = float(TICK_S)
        end = self.w.duration_s
        self.policy.attach(self)
        metrics = self.metrics
        crpc = metrics["ConcurrentRequestsPerCopy"]
        ncf = metrics["NoCapacityInvocationFailures"]
        ipc = metrics["InvocationsPerCopy"]
        tl = self.timeline
        while next_tick <= end + TICK_S:
            boundary = next_tick
            if events and events[0][0] < boundary:
                boundary = events[0][0]
            while i < n and arrivals[i] < boundary:
                a = arrivals[i]
                while busy and busy[0] <= a:
                    c = heappop(busy)
                    area += in_system * (c - last)
                    last = c
                    in_system -= 1
                    if queue and len(busy) < self.slots:
                        qa, qs = queue.popleft()
                        waits.append(c - qa)
                        heappush(busy, c + qs)
                area += in_system * (a - last)
                last = a
                i += 1
                if self.slots == 0:
                    failures += 1
                    bin_failures += 1
                    waits.append(math.inf)
                    continue
                in_system += 1
                bin_invocations += 1
                if not queue and len(busy) < self.slots:
                    waits.append(0.0)
                    heappush(busy, a + services[i - 1])
                else:
                    queue.append((a, services[i - 1]))
            while busy and busy[0] <= boundary:
                c = heappop(busy)
                area += in_system * (c - last)
                last = c
                in_system -= 1
                if queue and len(busy) < self.slots:
                    qa, qs = queue.popleft()
                    waits.append(c - qa)
                    heappush(busy, c + qs)
            area += in_system * (boundary - last)
            last = boundary
            self.now = boundary
            if boundary < next_tick:
                _, _, fn = heappop(events)
                fn()
                continue
            # Requests that waited past the invocation timeout leave (oldest are first).
            while queue and next_tick - queue[0][0] > INVOCATION_TIMEOUT_S:
                queue.popleft()
                in_system -= 1
                timeouts += 1
                waits.append(math.inf)
            # A tick: close the 10 s datapoints, then let the policy look at CloudWatch.
            per_copy = (area / TICK_S) / self.serving if self.serving else None
            crpc.record(per_copy)
            ncf.record(float(bin_failures))
            if self.serving:
                minute_invocations_per_copy += bin_invocations / self.serving
            if round(next_tick) % 60 == 0:
                ipc.record(minute_invocations_per_copy)
                minute_invocations_per_copy = 0.0
            tl.t_s.append(next_tick)
            tl.in_system.append(area / TICK_S)
            tl.serving_copies.append(self.serving)
            tl.desired_copies.append(self.desired)
            tl.instances.append(len(self.live_instances()))
            area = 0.0
            bin_invocations = bin_failures = 0
            while events and events[0][0] <= next_tick:
                _, _, fn = heappop(events)
                fn()
            self.policy.on_tick(self)
            if progress is not None:
                progress(TICK_S)
            next_tick += TICK_S
        # Requests still queued at the end (less than the timeout ago) waited at least this long.
        waits.extend(self.now - a for a, _ in queue)
        gpu_s = sum(
            ((inst.released_at if inst.released_at is not None else self.now) - inst.launched_at)
            for inst in self.instances
        )
        return RunResult(
            self.policy.name,
            self.c,
            self.w,
            np.asarray(waits),
            failures,
            timeouts,
            self.actions,
            self.timeline,
            gpu_s * self.c.endpoint.instance.gpus / 3600.0,
            dict(self.paths_used),
            self.notes,
        )


def simulate(
    component: Component,
    workload: Workload,
    policy: Policy,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Run ``workload`` through ``component`` under ``policy``."""
    return Simulation(component, workload, policy).run(progress)


def describe(result: RunResult) -> dict[str, Any]:
    """Headline figures of a run (the report adds time to capacity)."""
    waits = result.waits_s
    slo = result.component.slo_ttft_s
    finite = waits[np.isfinite(waits)]
    return {
        "requests": int(waits.size),
        "slo_attainment": float(np.mean(waits <= slo)) if waits.size else 1.0,
        "p50_wait_s": percentile(waits, 50),
        "p99_wait_s": percentile(waits, 99),
        "max_finite_wait_s": float(finite.max()) if finite.size else 0.0,
        "failed_invocations": result.failures,
        "timed_out_invocations": result.timeouts,
        "gpu_hours": result.gpu_hours,
        "scale_actions": len(result.actions),
        "flaps": flaps(result.actions),
        "paths_used": result.paths_used,
    }


def percentile(waits_s: np.ndarray, q: float) -> float | None:
    """The q-th percentile wait without interpolation; None when it is a failed request."""
    if not waits_s.size:
        return 0.0
    value = float(np.percentile(waits_s, q, method="inverted_cdf"))
    return value if math.isfinite(value) else None


def flaps(actions: list[Action]) -> int:
    """Changes of direction within ``FLAP_WINDOW_S`` of the previous action."""
    count = 0
    for prev, cur in itertools.pairwise(actions):
        up_prev = prev.to_copies > prev.from_copies
        up_cur = cur.to_copies > cur.from_copies
        if up_prev != up_cur and cur.at_s - prev.at_s < FLAP_WINDOW_S:
            count += 1
    return count
