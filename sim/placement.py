"""Where a new copy goes, when it serves, which copy scale-in removes, and when an empty instance
is released: one rule, followed by the simulator (``sim.pool``, ``sim.simulator``, ``sim.lane``)
and by the local SageMaker of the demo (``localaws.inference_components``), so that both move
the same copies at the same moments.

* A copy needs its model's accelerators and host memory on one instance.
* A new copy goes, in this order, to a running instance with room (the fullest first, the
  earliest launched among equals, so the others stay free to be released): path
  ``warm_instance``; to an instance already launching with room (the earliest ready first): it
  serves when that instance serves or when its own cold start on that instance's path would have
  ended, whichever is later; or onto a new instance, up to ``max_instances``: path ``cached``
  when the endpoint has the image, else ``uncached``. Otherwise it waits for room.
* On the warm path the model is already on the instance when a copy of it was there before and
  the component caches its data (``DataCacheConfig``); otherwise the copy downloads it.
* Scale-in removes a copy that has no instance yet first, then the copy that would serve last
  among those not serving yet, then a serving copy on the instance with the fewest copies (the
  latest launched among equals), so that instances empty out and can be released.
* An instance left without copies is released ``idle_release_s`` after it emptied (and not
  before it came up), never below ``min_instances``; the one due first goes first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

WARM = "warm_instance"  # a running instance with room
JOINS = "joins_launch"  # an instance still launching, with room
NEW = "new"  # a new instance
NONE = "none"  # no room anywhere and no instance left to launch: the copy waits


class Host(Protocol):
    """An instance as placement sees it."""

    @property
    def id(self) -> int: ...  # launch order on its endpoint, from 1

    @property
    def launched_at(self) -> float: ...

    @property
    def ready_at(self) -> float: ...

    @property
    def gpus_free(self) -> int: ...

    @property
    def memory_free_mb(self) -> int: ...

    @property
    def path(self) -> str: ...  # how it was started: ``initial``, ``cached`` or ``uncached``

    @property
    def copies(self) -> int: ...  # copies of every component on it


H = TypeVar("H", bound=Host)


@dataclass(frozen=True)
class Start:
    """How a placed copy starts: its cold-start path, whether its model was already on the
    instance (warm path only), and when it serves."""

    path: str
    model_on_instance: bool
    ready_at: float


def fits(host: Host, gpus: int, memory_mb: int) -> bool:
    return host.gpus_free >= gpus and host.memory_free_mb >= memory_mb


def choose(
    live: Sequence[H], now: float, gpus: int, memory_mb: int, max_instances: int
) -> tuple[str, H | None]:
    """Where a new copy of that size goes among the endpoint's ``live`` instances: ``WARM`` or
    ``JOINS`` with the instance, ``NEW`` or ``NONE`` without one."""
    running = [h for h in live if h.ready_at <= now and fits(h, gpus, memory_mb)]
    if running:
        return WARM, min(running, key=lambda h: (h.gpus_free, h.id))
    launching = [h for h in live if h.ready_at > now and fits(h, gpus, memory_mb)]
    if launching:
        return JOINS, min(launching, key=lambda h: (h.ready_at, h.id))
    if len(live) < max_instances:
        return NEW, None
    return NONE, None


def start(
    kind: str,
    host: Host | None,
    now: float,
    *,
    model_held: bool,
    image_cached: bool,
    ready_s: Callable[[str, bool], float],
) -> Start:
    """How a copy placed by ``choose`` (``kind``, ``host``) starts at ``now``.

    ``model_held``: ``host`` held a copy of this model before and the component caches its data;
    ``image_cached``: the endpoint has the image (a new instance takes the cached path);
    ``ready_s(path, model_on_instance)``: the cold-start model's seconds until the copy serves.
    """
    if kind == WARM and host is not None:
        return Start(WARM, model_held, now + ready_s(WARM, model_held))
    if kind == JOINS and host is not None:
        own = ready_s(host.path, False)
        return Start(host.path, False, max(host.ready_at, host.launched_at + own))
    if kind != NEW:
        raise ValueError(f"a copy starts on an instance chosen for it; got {kind!r} on {host!r}")
    path = "cached" if image_cached else "uncached"
    return Start(path, False, now + ready_s(path, False))


def removal_rank(placed_on: Host | None, serving: bool, ready_at: float) -> tuple[float, ...]:
    """Scale-in removes the copy of lowest rank (on a tie, the first in placement order)."""
    if placed_on is None:
        return (0.0,)
    if not serving:
        return (1.0, -ready_at)
    return (2.0, placed_on.copies, -placed_on.id)


def release_due(emptied_at: float, host_ready_at: float, idle_release_s: float) -> float:
    """When an instance that emptied at ``emptied_at`` is released if it stays empty."""
    return max(emptied_at + idle_release_s, host_ready_at)
