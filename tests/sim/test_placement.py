"""The placement rule the simulator and the demo's SageMaker share (``sim.placement``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sim import placement
from sim.placement import JOINS, NEW, NONE, WARM


@dataclass
class Box:
    id: int
    ready_at: float
    gpus_free: int
    memory_free_mb: int = 100_000
    launched_at: float = 0.0
    path: str = "initial"
    copies: int = 0


READY_S = {("warm_instance", True): 60.0, ("warm_instance", False): 90.0}
READY_S |= {("cached", False): 200.0, ("uncached", False): 450.0}


def ready_s(path: str, held: bool) -> float:
    return READY_S[path, held]


def test_a_new_copy_goes_to_the_fullest_running_instance_with_room() -> None:
    a, b, c = Box(1, 0.0, 3), Box(2, 0.0, 1), Box(3, 0.0, 2)
    assert placement.choose([a, b, c], 100.0, 1, 16_384, 4) == (WARM, b)
    # a 2-GPU copy does not fit on b: the fullest that fits is c
    assert placement.choose([a, b, c], 100.0, 2, 16_384, 4) == (WARM, c)
    # among equally full instances, the earliest launched
    first, second = Box(4, 0.0, 2), Box(5, 0.0, 2)
    assert placement.choose([second, first], 100.0, 1, 1, 4) == (WARM, first)


def test_host_memory_counts_as_much_as_accelerators() -> None:
    short = Box(1, 0.0, 3, memory_free_mb=8_000)
    roomy = Box(2, 0.0, 4)
    assert placement.choose([short, roomy], 100.0, 1, 16_384, 4) == (WARM, roomy)


def test_without_running_room_a_copy_joins_a_launching_instance_then_starts_one() -> None:
    full = Box(1, 0.0, 0)
    later, sooner = Box(2, 500.0, 2), Box(3, 400.0, 2)
    assert placement.choose([full, later, sooner], 100.0, 1, 1, 4) == (JOINS, sooner)
    assert placement.choose([full], 100.0, 1, 1, 2) == (NEW, None)
    assert placement.choose([full, Box(2, 0.0, 0)], 100.0, 1, 1, 2) == (NONE, None)


def test_the_warm_path_downloads_the_model_unless_the_instance_held_it() -> None:
    host = Box(1, 0.0, 2)
    held = placement.start(WARM, host, 100.0, model_held=True, image_cached=True, ready_s=ready_s)
    assert held == placement.Start("warm_instance", True, 160.0)
    fresh = placement.start(WARM, host, 100.0, model_held=False, image_cached=True, ready_s=ready_s)
    assert fresh == placement.Start("warm_instance", False, 190.0)


def test_a_joining_copy_serves_at_the_later_of_the_instance_and_its_own_cold_start() -> None:
    # The instance was launched at 50 s for a smaller model and serves at 230 s; this copy's
    # own cold start on that path takes 200 s from the launch: 250 s.
    host = Box(2, 230.0, 2, launched_at=50.0, path="cached")
    how = placement.start(JOINS, host, 100.0, model_held=False, image_cached=True, ready_s=ready_s)
    assert how == placement.Start("cached", False, 250.0)
    early = Box(2, 300.0, 2, launched_at=50.0, path="cached")
    assert (
        placement.start(
            JOINS, early, 100.0, model_held=False, image_cached=True, ready_s=ready_s
        ).ready_at
        == 300.0
    )


def test_a_new_instance_pulls_the_image_unless_the_endpoint_has_it() -> None:
    cached = placement.start(NEW, None, 100.0, model_held=False, image_cached=True, ready_s=ready_s)
    pulled = placement.start(
        NEW, None, 100.0, model_held=False, image_cached=False, ready_s=ready_s
    )
    assert (cached.path, cached.ready_at) == ("cached", 300.0)
    assert (pulled.path, pulled.ready_at) == ("uncached", 550.0)
    with pytest.raises(ValueError, match="'none'"):
        placement.start(NONE, None, 100.0, model_held=False, image_cached=True, ready_s=ready_s)


def test_scale_in_removes_unplaced_then_the_last_to_serve_then_from_the_emptiest_instance() -> None:
    busy, quiet, newer_quiet = (
        Box(1, 0.0, 0, copies=3),
        Box(2, 0.0, 2, copies=1),
        Box(3, 0.0, 2, copies=1),
    )
    copies = {
        "unplaced": (None, False, float("inf")),
        "starting soon": (busy, False, 150.0),
        "starting late": (busy, False, 400.0),
        "on the busy instance": (busy, True, 10.0),
        "on a quiet instance": (quiet, True, 20.0),
        "on a newer quiet instance": (newer_quiet, True, 30.0),
    }
    order = []
    while copies:
        name = min(copies, key=lambda n: placement.removal_rank(*copies[n]))
        order.append(name)
        del copies[name]
    assert order == [
        "unplaced",
        "starting late",
        "starting soon",
        "on a newer quiet instance",
        "on a quiet instance",
        "on the busy instance",
    ]


def test_an_empty_instance_is_released_after_the_cooldown_and_never_before_it_came_up() -> None:
    assert placement.release_due(100.0, 0.0, 1200.0) == 1300.0
    assert placement.release_due(100.0, 2000.0, 1200.0) == 2000.0
