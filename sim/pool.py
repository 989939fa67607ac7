"""An endpoint's instance pool under ManagedInstanceScaling, shared by all its components.

* A copy needs its model's accelerators and host memory on one instance; copies of different
  models share an instance when both fit (4 GPUs of an ml.g6.12xlarge hold four 1-GPU copies of
  any mix of models, memory permitting).
* A new copy goes, in this order, to a running instance with room (the fullest first, so the
  others stay free to be released: the warm path), to an instance already launching with room
  (it serves when that instance would have served it), or onto a new instance (cached or uncached
  path) up to ``max_instances``. When no instance can take it the copy waits; it is placed as soon
  as room appears (a copy of another component leaves, an instance is released).
* An instance left without copies is released ``idle_release_s`` later (IDLE_RELEASE: AWS does
  not document how soon; the endpoint's ``scale_in_policy.cooldown_minutes`` by default), never
  below ``min_instances``.
* GPU-hours count each instance once, from launch to release, times its GPUs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from config.fleet import Endpoint


@dataclass
class Instance:
    id: int
    launched_at: float
    ready_at: float
    gpus_free: int
    memory_free_mb: int
    path: str = "initial"  # how it was started: its later copies take the same path
    copies: int = 0
    held: set[int] = field(default_factory=set)  # lanes whose artifacts are on the instance
    empty_since: float | None = None
    released_at: float | None = None


@dataclass
class Copy:
    lane: int
    instance: Instance
    ready_at: float
    path: str
    decided_at: float
    serving: bool = False
    removed: bool = False


class Pool:
    """The instances of one endpoint; ``schedule`` runs a callback at a simulated time."""

    def __init__(
        self,
        endpoint: Endpoint,
        schedule: Callable[[float, Callable[[], None]], None],
        idle_release_s: float,
    ):
        self.endpoint = endpoint
        self.schedule = schedule
        self.idle_release_s = idle_release_s
        self.instances: list[Instance] = []  # every instance launched, in launch order
        self._live: list[Instance] = []  # those not released yet, in launch order
        self.now = 0.0
        self.on_room: Callable[[], None] = lambda: None  # room appeared: place waiting copies

    def live(self) -> list[Instance]:
        return list(self._live)

    def live_count(self) -> int:
        return len(self._live)

    def launch(self, ready_at: float, path: str = "initial") -> Instance:
        it = self.endpoint.instance
        inst = Instance(len(self.instances) + 1, self.now, ready_at, it.gpus, it.memory_mb, path)
        self.instances.append(inst)
        self._live.append(inst)
        return inst

    @staticmethod
    def fits(inst: Instance, gpus: int, memory_mb: int) -> bool:
        return inst.gpus_free >= gpus and inst.memory_free_mb >= memory_mb

    def room(self, gpus: int, memory_mb: int) -> int:
        """Copies of that size that fit on running instances right now."""
        total = 0
        for i in self.live():
            if i.ready_at <= self.now:
                total += min(i.gpus_free // gpus if gpus else 10**6, i.memory_free_mb // memory_mb)
        return total

    def choose(self, gpus: int, memory_mb: int) -> tuple[str, Instance | None]:
        """Where a new copy goes: ``warm_instance``, ``joins_launch``, ``new`` or ``none``."""
        live = self.live()
        running = [i for i in live if i.ready_at <= self.now and self.fits(i, gpus, memory_mb)]
        if running:
            return "warm_instance", min(running, key=lambda i: (i.gpus_free, i.id))
        launching = [i for i in live if i.ready_at > self.now and self.fits(i, gpus, memory_mb)]
        if launching:
            return "joins_launch", min(launching, key=lambda i: (i.ready_at, i.id))
        if len(live) < self.endpoint.max_instances:
            return "new", None
        return "none", None

    def take(self, inst: Instance, lane: int, gpus: int, memory_mb: int) -> None:
        inst.gpus_free -= gpus
        inst.memory_free_mb -= memory_mb
        inst.copies += 1
        inst.held.add(lane)
        inst.empty_since = None

    def give_back(self, inst: Instance, gpus: int, memory_mb: int) -> None:
        inst.gpus_free += gpus
        inst.memory_free_mb += memory_mb
        inst.copies -= 1
        if inst.copies == 0:
            self.release_later(inst)
        self.on_room()

    def release_later(self, inst: Instance) -> None:
        inst.empty_since = since = self.now

        def release() -> None:
            if (
                inst.released_at is None
                and inst.copies == 0
                and inst.empty_since == since
                and len(self._live) > self.endpoint.min_instances
            ):
                inst.released_at = self.now
                self._live.remove(inst)
                self.on_room()

        self.schedule(max(self.now + self.idle_release_s, inst.ready_at), release)

    def gpu_hours(self, end_s: float) -> float:
        gpu_s = sum(
            (i.released_at if i.released_at is not None else end_s) - i.launched_at
            for i in self.instances
        )
        return gpu_s * self.endpoint.instance.gpus / 3600.0
