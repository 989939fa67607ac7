"""A fleet whose models keep at least N copies: Application Auto Scaling's ``MinCapacity``.

A user of target tracking sets the scalable target's minimum as well as its target; for traffic
that bursts faster than a cold start, a raised minimum keeps the copies a burst needs. The
benchmark sweeps it on AWS's side (``sim.bench.FLOORS``), and a fixed fleet (``sim.fixed``) is
the same with the maximum held at the minimum too.
"""

from __future__ import annotations

import dataclasses
import math

from config.fleet import Fleet


def floored(fleet: Fleet, copies: int) -> Fleet:
    """``fleet`` with every model's minimum and initial copies raised to ``copies`` (at most its
    ``max_copies``; a larger minimum of its own is kept) and each endpoint's minimum instances
    raised to what those copies take (capped at ``max_instances``), so that they serve from the
    start, as an endpoint deployed with that minimum does: 6 instances on the default fleet (one
    copy per instance), 2 for three models of 2 copies on 4-GPU instances of four 1-GPU copies.
    """
    if copies < 1:
        raise ValueError(f"a minimum of at least 1 copy; got {copies}")
    endpoints = []
    for e in fleet.endpoints:
        models = tuple(
            dataclasses.replace(
                m,
                min_copies=max(m.min_copies, min(copies, m.max_copies)),
                initial_copies=max(m.initial_copies, m.min_copies, min(copies, m.max_copies)),
            )
            for m in e.models
        )
        # Instances the minimum copies take when each model's copies pack alone.
        needed = math.ceil(sum(m.min_copies / e.copies_per_instance(m) for m in models) - 1e-9)
        endpoints.append(
            dataclasses.replace(
                e, min_instances=max(e.min_instances, min(needed, e.max_instances)), models=models
            )
        )
    return dataclasses.replace(fleet, endpoints=tuple(endpoints))
