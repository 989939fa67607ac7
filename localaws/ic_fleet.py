"""One endpoint's instances under the inference components of ``localaws.inference_components``:
where each copy goes, when it serves, which copy scale-in removes and when an idle instance is
released, all by the simulator's rule (``sim.placement``), so that the demo's SageMaker and its
simulation move the same copies at the same moments.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config.instance_types import INSTANCE_TYPES
from sim import placement

NEVER = math.inf
_UNKNOWN_MEMORY_MB = 2**40  # an instance type the table does not know: memory never limits


@dataclass(eq=False)
class Instance:
    """One instance, as ``sim.placement.Host`` reads it."""

    id: int  # launch order on its endpoint, from 1
    launched_at: float
    ready_at: float
    gpus_free: int
    memory_free_mb: int
    path: str  # how it came up: "initial", "cached" or "uncached"
    copies: int = 0
    held: set[str] = field(default_factory=set)  # components whose model was on it
    idle_since: float | None = None  # when its last copy left


@dataclass(eq=False)
class Copy:
    ready_at: float = NEVER
    instance: Instance | None = None  # None while no instance has room for it
    path: str = ""


@dataclass(frozen=True)
class Need:
    """What one copy of a component needs, and how fast it starts."""

    component: str
    image: str
    accelerators: int
    memory_mb: int
    data_cache: bool  # DataCacheConfig.EnableCaching: the model stays on an instance it was on
    ready_s: Callable[[str, bool], float]  # (path, model on the instance) -> seconds


@dataclass
class Fleet:
    """One endpoint's instances and image cache (purged with the endpoint)."""

    endpoint_name: str
    instance_type: str
    accelerators_per_instance: int
    memory_mb_per_instance: int
    min_instances: int
    max_instances: int
    release_after_s: float  # ScaleInPolicy.CooldownInMinutes: how long an idle instance stays
    instances: list[Instance] = field(default_factory=list)  # live ones, in launch order
    launched: int = 0  # instances launched so far (released ones too): the next one's id - 1
    cached_images: set[str] = field(default_factory=set)

    @classmethod
    def of_variant(cls, endpoint_name: str, variant: dict[str, Any], now: float) -> Fleet:
        """The fleet of a production variant; the instances it starts with are running (and
        hold no image yet)."""
        instance_type = variant.get("InstanceType", "")
        facts = INSTANCE_TYPES.get(instance_type)
        scaling = variant.get("ManagedInstanceScaling") or {}
        initial = int(variant.get("InitialInstanceCount") or 0)
        min_instances = int(scaling.get("MinInstanceCount", initial))
        cooldown_min = float((scaling.get("ScaleInPolicy") or {}).get("CooldownInMinutes", 20))
        fleet = cls(
            endpoint_name,
            instance_type,
            max(1, facts.gpus if facts else 1),
            facts.memory_mb if facts else _UNKNOWN_MEMORY_MB,
            min_instances,
            int(scaling.get("MaxInstanceCount", max(initial, 1))),
            cooldown_min * 60.0,
        )
        for _ in range(max(initial, min_instances)):
            fleet.launch(now, -NEVER, "initial").idle_since = now
        return fleet

    def launch(self, now: float, ready_at: float, path: str) -> Instance:
        self.launched += 1
        instance = Instance(
            self.launched,
            now,
            ready_at,
            self.accelerators_per_instance,
            self.memory_mb_per_instance,
            path,
        )
        self.instances.append(instance)
        return instance

    def place(self, need: Need, copy: Copy, now: float) -> None:
        """Put ``copy`` where ``sim.placement`` says; it stays unplaced while there is no room."""
        gpus, memory_mb = need.accelerators, need.memory_mb
        kind, instance = placement.choose(self.instances, now, gpus, memory_mb, self.max_instances)
        if kind == placement.NONE:
            return  # waits for room, as a copy does when MaxInstanceCount is reached
        how = placement.start(
            kind,
            instance,
            now,
            model_held=instance is not None and need.data_cache and need.component in instance.held,
            image_cached=need.image in self.cached_images,
            ready_s=need.ready_s,
        )
        if instance is None:
            instance = self.launch(now, how.ready_at, how.path)
        instance.gpus_free -= gpus
        instance.memory_free_mb -= memory_mb
        instance.copies += 1
        instance.held.add(need.component)
        instance.idle_since = None
        copy.instance, copy.path, copy.ready_at = instance, how.path, how.ready_at

    def remove(self, need: Need, copies: list[Copy], now: float) -> None:
        """Remove the copy of ``copies`` that scale-in removes first."""
        victim = min(
            copies, key=lambda c: placement.removal_rank(c.instance, c.ready_at <= now, c.ready_at)
        )
        copies.remove(victim)
        instance = victim.instance
        if instance is not None:
            instance.gpus_free += need.accelerators
            instance.memory_free_mb += need.memory_mb
            instance.copies -= 1
            if instance.copies == 0:
                instance.idle_since = now

    def release_idle(self, now: float) -> None:
        """IDLE_RELEASE: an instance that has held no copy for the scale-in policy's cooldown
        goes (``sim.placement.release_due``; the one due first first), down to
        MinInstanceCount."""
        due = sorted(
            (placement.release_due(i.idle_since, i.ready_at, self.release_after_s), i.id, i)
            for i in self.instances
            if i.copies == 0 and i.idle_since is not None
        )
        for at, _, instance in due:
            if at > now or len(self.instances) <= self.min_instances:
                break
            self.instances.remove(instance)
