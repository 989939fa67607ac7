"""An endpoint's instance pool under ManagedInstanceScaling, shared by all its components.

* Where a new copy goes (a running instance with room, the fullest first; an instance already
  launching; a new instance up to ``max_instances``; or it waits until room appears), which copy
  scale-in removes and when an empty instance is released: ``sim.placement``, the rule the
  demo's local SageMaker follows too. Copies of different models share an instance when both
  fit (4 GPUs of an ml.g6.12xlarge hold four 1-GPU copies of any mix of models, memory
  permitting).
* An instance left without copies is released ``idle_release_s`` later (IDLE_RELEASE: AWS does
  not document how soon; the endpoint's ``scale_in_policy.cooldown_minutes`` by default), never
  below ``min_instances``.
* GPU-hours count each instance once, from launch to release, times its GPUs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from config.fleet import Endpoint

from . import placement


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

    def room(self, gpus: int, memory_mb: int) -> int:
        """Copies of that size that fit on running instances right now."""
        total = 0
        for i in self.live():
            if i.ready_at <= self.now:
                total += min(i.gpus_free // gpus if gpus else 10**6, i.memory_free_mb // memory_mb)
        return total

    def choose(self, gpus: int, memory_mb: int) -> tuple[str, Instance | None]:
        """Where a new copy goes (``sim.placement.choose``): ``warm_instance``,
        ``joins_launch``, ``new`` or ``none``."""
        return placement.choose(self._live, self.now, gpus, memory_mb, self.endpoint.max_instances)

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

        self.schedule(placement.release_due(self.now, inst.ready_at, self.idle_release_s), release)

    def gpu_hours(self, end_s: float) -> float:
        gpu_s = sum(
            (i.released_at if i.released_at is not None else end_s) - i.launched_at
            for i in self.instances
        )
        return gpu_s * self.endpoint.instance.gpus / 3600.0
