"""One run of a whole fleet: every endpoint, each component with its own traffic, one policy.

Traffic is given as a list of assignments: ``T`` (every component not named otherwise) and
``COMPONENT=T`` (that component; its model name or its inference-component name), where ``T``
is a scenario, a bundled trace or a CSV path (``sim.traffic.workload``), or ``multi-model``: the
components of an endpoint given it take ``sim.traffic.multi_model``'s shapes in fleet-file
order. Components with no traffic get none (their copies stay as the policy leaves them, and
still cost GPU-hours). Each component draws its synthetic traffic from its own seed, derived
from the run's seed and its position in the fleet, so two components given the same scenario
see different requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from config.fleet import Fleet, Model

from .component import Component
from .policies import make_policy
from .simulator import EndpointResult, EndpointSimulation
from .traffic import MULTI_MODEL, Workload, multi_model, workload

SEED_STRIDE = 1_000  # component k of seed s draws from seed s * SEED_STRIDE + k


@dataclass(frozen=True)
class Delays:
    """The unknowns every policy shares (docs/scaling-model.md, sensitivity)."""

    reaction_s: float = 30.0
    publish_delay_s: float = 30.0
    idle_release_s: float | None = None  # None: each endpoint's scale_in_policy.cooldown_minutes


DEFAULT_DELAYS = Delays()


def assign_traffic(fleet: Fleet, traffic: Sequence[str]) -> dict[str, str]:
    """Component name -> trace, from ``T`` and ``COMPONENT=T`` assignments."""
    if not traffic:
        raise ValueError("no traffic given; allowed: T or COMPONENT=T (T a scenario, trace or CSV)")
    names = {m.component_name: m for m in fleet.models}
    by_model = {m.name: m.component_name for m in fleet.models}
    default: str | None = None
    out: dict[str, str] = {}
    for item in traffic:
        if "=" in item and not item.lower().endswith(".csv"):
            key, trace = (x.strip() for x in item.split("=", 1))
            name = key if key in names else by_model.get(key)
            if name is None:
                raise ValueError(
                    f"traffic {item!r}: no component {key!r}; allowed: "
                    f"{', '.join(sorted(names))} (or their model names)"
                )
            out[name] = trace
        elif default is not None:
            raise ValueError(f"traffic given twice for every component: {default!r}, {item!r}")
        else:
            default = item
    if default is not None:
        for name in names:
            out.setdefault(name, default)
    return out


def component_workloads(
    fleet: Fleet,
    assigned: Mapping[str, str],
    *,
    seed: int,
    load: float = 1.0,
    duration_s: float | None = None,
) -> dict[str, Workload]:
    """Each assigned component's requests for ``seed``."""
    out: dict[str, Workload] = {}
    for ep in fleet.endpoints:
        names = [
            m.component_name for m in ep.models if assigned.get(m.component_name) == MULTI_MODEL
        ]
        if names:
            for name, w in multi_model(names, seed=seed, duration_s=duration_s).items():
                out[name] = w.scaled(load, seed * SEED_STRIDE + len(out))
    for k, model in enumerate(fleet.models):
        trace = assigned.get(model.component_name)
        if trace is not None and trace != MULTI_MODEL:
            out[model.component_name] = workload(
                trace, seed=seed * SEED_STRIDE + k, duration_s=duration_s, load=load
            )
    return out


def _idle(model: Model, duration_s: float) -> Workload:
    empty = np.zeros(0)
    return Workload(f"{model.component_name}: no traffic", empty, empty, empty, duration_s)


def run_fleet(
    fleet: Fleet,
    workloads: Mapping[str, Workload],
    policy: str,
    knob: Mapping[str, float] | None = None,
    delays: Delays = DEFAULT_DELAYS,
) -> list[EndpointResult]:
    """Simulate every endpoint of ``fleet`` that has traffic under ``policy`` (one fresh policy
    object per component)."""
    if not workloads:
        raise ValueError("no component has traffic")
    duration = max(w.duration_s for w in workloads.values())
    results = []
    for ep in fleet.endpoints:
        if not any(m.component_name in workloads for m in ep.models):
            continue
        lanes = [
            (
                Component.of(fleet, ep, m),
                workloads.get(m.component_name) or _idle(m, duration),
                make_policy(policy, knob),
            )
            for m in ep.models
        ]
        sim = EndpointSimulation(
            lanes,
            reaction_s=delays.reaction_s,
            publish_delay_s=delays.publish_delay_s,
            idle_release_s=delays.idle_release_s,
        )
        results.append(sim.run())
    return results
